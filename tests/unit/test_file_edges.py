"""The file edges: reports are readable by the group, text that cannot be encoded is replaced, TOML is UTF-8."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from harness.config import read_toml
from harness.errors import ConfigError
from harness.files import write_atomically
from harness.markdown import code_block, inline


def test_reports_honour_the_umask(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "summary.md"
    write_atomically(target, "x")
    mode = stat.S_IMODE(target.stat().st_mode)
    mask = os.umask(0)
    os.umask(mask)
    assert mode == 0o666 & ~mask


def test_a_lone_surrogate_does_not_cost_the_report(tmp_path: Path) -> None:
    target = tmp_path / "index.html"
    write_atomically(target, "message \udcff end")
    assert target.read_text(encoding="utf-8") == "message ? end"


def test_non_utf8_toml_is_one_line(tmp_path: Path) -> None:
    case_file = tmp_path / "case.toml"
    case_file.write_bytes(b'title = "caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"case.toml: not UTF-8 text \(byte 12\)"):
        read_toml(case_file)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ping @octocat now", "ping &#64;octocat now"),
        ("@team/reviewers", "&#64;team/reviewers"),
        ("mail user@example.com", "mail user@example.com"),
        ("a @ b", "a @ b"),
    ],
)
def test_mentions_are_neutralised(text: str, expected: str) -> None:
    assert inline(text) == expected


def test_code_blocks_show_control_characters() -> None:
    block = code_block("Traceback\n\x1b[2J\x1b]0;title\x07 end")
    assert "\x1b" not in block and "\x07" not in block
    assert "\\x1b[2J" in block
