"""The one Markdown escaper every report uses: hostile text stays literal text, readable text stays readable."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.markdown import code_block, inline, one_line, visible


def unescape(text: str) -> str:
    return html.unescape(re.sub(r"\\(.)", r"\1", text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x-transformers 1.42.20 -> 1.43.1", "x-transformers 1.42.20 -> 1.43.1"),
        ("> quote", "\\> quote"),
        ("rotary_xpos_batch1", "rotary_xpos_batch1"),
        ("_private and trailing_", "\\_private and trailing\\_"),
        ("a|b", "a\\|b"),
        ("<script>", "&lt;script>"),
        ("two\nlines", "two lines"),
        ("# title", "\\# title"),
        ("- item", "\\- item"),
        ("1. item", "1\\. item"),
        ("`code`", "\\`code\\`"),
        ("[t](u)", "\\[t\\](u)"),
        ("::set-output name=x::1", "\\::set-output name=x::1"),
        ("\x1b[31mred", "\\\\x1b\\[31mred"),
        ("1.42.21 is bad", "1.42.21 is bad"),
    ],
)
def test_inline(text: str, expected: str) -> None:
    assert inline(text) == expected


@given(st.text(max_size=200))
def test_inline_is_literal_and_safe(text: str) -> None:
    escaped = inline(text)
    assert "\n" not in escaped and "<" not in escaped
    assert re.search(r"(?<!\\)\|", escaped) is None  # no pipe can end a table cell
    assert unescape(escaped) == visible(one_line(text))


def test_truncation_happens_before_escaping() -> None:
    assert inline("|" * 1000, limit=50).count("\\|") == 47


def test_code_block_fence_outlasts_backticks_inside() -> None:
    block = code_block("a ```` b")
    assert block.startswith("`````\n") and block.endswith("\n`````")
