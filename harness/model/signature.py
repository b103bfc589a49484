"""A recorded failure's signature and the pure test of whether a raised error matches it.

A signature names what stays stable across releases (exception type, fragments of the message such as the
einops pattern and the input shape), never one release's exact wording, so that einops 0.6's
"Expected 1 dimensions, got 2" and 0.8's "Wrong shape: expected 1 dims" are the same failure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from string import Template

ParamValue = str | int | float | bool


@dataclass(frozen=True)
class RaisedError:
    """An exception as the replay bootstrap reported it from inside the target environment."""

    type_name: str
    """Qualified name of the raised class, e.g. ``einops.EinopsError``."""
    message: str
    traceback_tail: str = ""
    type_chain: tuple[str, ...] = ()
    """Qualified names of the class and its bases, so a signature may name a base class."""

    @property
    def first_line(self) -> str:
        stripped = self.message.strip()
        return stripped.splitlines()[0] if stripped else "(no message)"


@dataclass(frozen=True)
class Signature:
    exception_type: str
    """Qualified (``einops.EinopsError``) or bare (``EinopsError``) class name."""
    message_contains: tuple[str, ...] = ()
    """Fragments that must all occur in the message; ``$name`` is replaced by the case parameter."""
    message_regex: str | None = None
    """An optional regular expression searched in the message; ``$name`` is replaced as in the fragments."""
    _compiled: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.message_regex is not None:
            object.__setattr__(self, "_compiled", re.compile(self.message_regex))

    def render(self, parameters: Mapping[str, ParamValue]) -> Signature:
        """Substitute case parameters into the fragments, so one signature serves a parameter sweep."""
        values = {name: str(value) for name, value in parameters.items()}
        return Signature(
            exception_type=self.exception_type,
            message_contains=tuple(Template(text).safe_substitute(values) for text in self.message_contains),
            message_regex=Template(self.message_regex).safe_substitute(values) if self.message_regex else None,
        )

    def matches(self, error: RaisedError) -> bool:
        if not self._type_matches(error):
            return False
        message = _normalize_whitespace(error.message)
        if not all(_normalize_whitespace(fragment) in message for fragment in self.message_contains):
            return False
        return self._compiled is None or self._compiled.search(error.message) is not None

    def _type_matches(self, error: RaisedError) -> bool:
        candidates = (error.type_name, *error.type_chain)
        if "." in self.exception_type:
            return self.exception_type in candidates
        return any(name.rpartition(".")[2] == self.exception_type for name in candidates)


def _normalize_whitespace(text: str) -> str:
    # Messages are re-wrapped between releases; compare them with runs of white space folded to one space.
    return " ".join(text.split())
