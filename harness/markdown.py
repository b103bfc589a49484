"""Escaping for text that reaches Markdown (GitHub, terminals) from cases and exception messages.

Escapes only what can change structure or inject markup, so that escaped text still reads well in a
terminal: table pipes, emphasis and code markers, link brackets, raw HTML, and markers at a line's start.
"""

from __future__ import annotations

import re

_ALWAYS = re.compile(r"([\\`*|\[\]~])")
_WORD_EDGE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_LINE_START = re.compile(r"^([#>+=-]|\d+\.)")


def inline(text: str, *, limit: int = 300) -> str:
    """One line of untrusted text, safe inside a Markdown paragraph or table cell."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    escaped = _ALWAYS.sub(r"\\\1", flat.replace("&", "&amp;").replace("<", "&lt;"))
    # Underscores inside words never start emphasis on GitHub; only those at a word's edge need escaping.
    escaped = _WORD_EDGE_UNDERSCORE.sub(r"\\_", escaped)
    return _LINE_START.sub(r"\\\1", escaped)


def code_block(text: str, language: str = "") -> str:
    """A fenced block that no backtick run inside the text can close early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"
