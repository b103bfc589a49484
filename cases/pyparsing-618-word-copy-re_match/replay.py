"""pyparsing 3.2.4: copying a Word whose character set contains a space loses its compiled regex.

Upstream: https://github.com/pyparsing/pyparsing/issues/618
setResultsName() makes a copy of the Word; in 3.2.4 the copy has no ``re_match``
attribute, so parsing raises AttributeError. 3.2.3 and 3.2.5+ parse fine.
"""

import string

import pyparsing as pp


def replay(text: str = "speed : meter/second") -> None:
    identifier = pp.Word(string.ascii_letters + "_", string.ascii_letters + string.digits + "_").setResultsName(
        "identifier"
    )
    # the space inside the body characters is what triggers the bug
    unit = pp.Word(string.ascii_letters + string.digits + "*/.- ").setResultsName("unit")
    parameter_eq = pp.Group(identifier + pp.Suppress(":") + unit)
    parameter_eq.parseString(text)


if __name__ == "__main__":
    replay()
