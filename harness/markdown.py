"""Escaping for text that reaches Markdown (GitHub, terminals) from cases and exception messages."""

from __future__ import annotations

import html
import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def inline(text: str, *, limit: int = 300) -> str:
    """One line of untrusted text, safe inside a Markdown paragraph or table cell."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(flat, quote=False))


def code_block(text: str, language: str = "") -> str:
    """A fenced block that no backtick run inside the text can close early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"
