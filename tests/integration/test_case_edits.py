"""Editing a case re-probes it: the record key covers replay.py and the helper modules beside it, end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import FakeProject, make_project

pytestmark = pytest.mark.integration

REPLAY = """
import fakepkg

import shapes


def replay(n: int = 3) -> None:
    assert fakepkg.compute(n) == shapes.expected(n)
"""
HELPER = "def expected(n):\n    return [[i] for i in range(n)]\n"


def records(project: FakeProject) -> list[dict[str, Any]]:
    folder = project.root / "reports" / "records" / "fake_case"
    return [json.loads(p.read_text()) for p in folder.glob("*.json")]


def repro(project: FakeProject) -> str:
    result = project.harness("repro")
    assert result.returncode == 0, result.output
    return result.stdout


def test_editing_replay_or_a_helper_it_imports_probes_again(tmp_path: Path) -> None:
    project = make_project(tmp_path, hang=(), other_error=(), unresolvable=())
    project.write_versions('[packages.fakepkg]\nversions = ["1.3"]\n[packages.fakedep]\nversions = ["2.0"]\n')
    case = project.root / "cases" / "fake_case"
    (case / "replay.py").write_text(REPLAY, encoding="utf-8")
    (case / "shapes.py").write_text(HELPER, encoding="utf-8")

    assert "1 probes (0 from stored records)" in repro(project)
    assert "1 probes (1 from stored records)" in repro(project)  # nothing changed: the record answers

    (case / "replay.py").write_text(REPLAY + "\n# reworded\n", encoding="utf-8")
    assert "1 probes (0 from stored records)" in repro(project)

    # The helper now expects what the bad releases return: the same fakepkg 1.3 gives another answer.
    (case / "shapes.py").write_text(HELPER.replace("[[i] for i", "[[i, 1] for i"), encoding="utf-8")
    assert "1 probes (0 from stored records)" in repro(project)
    assert "1 probes (1 from stored records)" in repro(project)

    found = records(project)
    assert sorted(r["outcome"] for r in found) == ["DIFFERENT_ERROR", "PASSED", "PASSED"]
    assert len({r["case_hash"] for r in found}) == 3
    (different,) = (r for r in found if r["outcome"] == "DIFFERENT_ERROR")
    assert different["error"]["type"] == "builtins.AssertionError"
    summary = json.loads((project.root / "reports" / "fake_case" / "summary.json").read_text())
    assert [cell["outcome"] for cell in summary["cells"]] == ["DIFFERENT_ERROR"]  # only the current case counts
