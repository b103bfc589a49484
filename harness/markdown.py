"""Escaping for untrusted text (exception messages, installer output, package metadata) in Markdown.

One escaper serves every report: a summary table, a bisection report, a pull-request comment. Newlines are
folded so a message cannot end a table row or start a heading; HTML characters become entities so
``</details><script>`` is text; Markdown punctuation is backslash-escaped so a pipe cannot open a cell and
backticks, brackets and ``#`` cannot open code, links or headings; a leading ``-``, ``+`` or ``1.`` cannot
start a list. Underscores inside a word are left alone (GitHub never reads them as emphasis), so names such
as ``rotary_xpos`` stay readable in a terminal.
"""

from __future__ import annotations

import re

# Characters that are illegal in XML 1.0, invisible (zero-width, bidi overrides: "Trojan source"), or that a
# terminal interprets (ESC); lone surrogates come from output decoded with errors="surrogateescape".
_UNSAFE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufeff\ufffe\uffff]"
)
# What CommonMark/GFM may read as markup inside a line: "$" is GitHub's math, "~" strike-through. Other
# punctuation only matters at the start of a block.
_MARKDOWN_INLINE = frozenset("\\`*[]|#~$")
# "<" opens raw HTML and "&" an entity; ">" and quotes only matter at a line's start or inside an attribute,
# which untrusted text never reaches, so they stay readable.
_HTML_ENTITIES = {"&": "&amp;", "<": "&lt;"}
_ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_WORD = re.compile(r"[A-Za-z0-9]")
# "@name" at the start of a word would notify a GitHub user or team from a pull-request comment.
_MENTION = re.compile(r"(?<![\w.+-])@(?=[A-Za-z0-9])")


def one_line(text: str, limit: int = 300) -> str:
    """Fold any text into one bounded line."""
    folded = " ".join(text.split())
    return folded if len(folded) <= limit else folded[: limit - 3] + "..."


def visible(text: str) -> str:
    """Replace control, invisible and XML-illegal characters by ``\\xNN``/``\\uNNNN`` so they show and do no harm."""
    return _UNSAFE.sub(_escape_code, text)


def _escape_code(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_line(text: str, limit: int = 300) -> str:
    """One bounded line with every unsafe character made visible."""
    return visible(one_line(text, limit))


def inline(text: str, limit: int = 300) -> str:
    """One inline line of literal text, safe in a table cell, a list item or HTML around it.

    The text is bounded *before* escaping, so truncation never leaves a dangling backslash before a pipe.
    """
    plain = safe_line(text, limit)
    mentions = {match.start() for match in _MENTION.finditer(plain)}
    escaped = []
    for index, char in enumerate(plain):
        if index in mentions:
            escaped.append("&#64;")
        elif char in _HTML_ENTITIES:
            escaped.append(_HTML_ENTITIES[char])
        elif char in _MARKDOWN_INLINE or (char == "_" and not _inside_word(plain, index)):
            escaped.append(f"\\{char}")
        else:
            escaped.append(char)
    if plain and escaped[0] == plain[0] and plain[0] in _ASCII_PUNCTUATION:  # not yet escaped
        escaped[0] = f"\\{plain[0]}"
    # "1. item" would start a list; "1.42.21" would not, and stays readable.
    ordered = re.match(r"\d{1,9}([.)])(?=\s|$)", plain)
    if ordered:
        escaped[ordered.end() - 1] = f"\\{ordered.group(1)}"
    return "".join(escaped)


def _inside_word(text: str, index: int) -> bool:
    before = index > 0 and _WORD.match(text[index - 1]) is not None
    after = index + 1 < len(text) and _WORD.match(text[index + 1]) is not None
    return before and after


def code_block(text: str, language: str = "") -> str:
    """A fenced block that no backtick run inside the text can close early, control characters made visible."""
    text = visible(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"
