"""Culprit isolation end to end, offline: three fake packages move at once; which change breaks the case?"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from harness import process
from tests.fakeindex import build_wheel, write_simple_index
from tests.integration.conftest import REPO

pytestmark = pytest.mark.integration

MODULE = 'VERSION = "{version}"\n'
REPLAYS = {
    # Only pb's upgrade breaks this case.
    "only_b": (
        "import pb\n\ndef replay():\n    if pb.VERSION.startswith('2.'):\n        raise ValueError('pb 2 broke it')\n"
    ),
    # Only pa and pc together break this one: neither alone does.
    "a_and_c": (
        "import pa, pc\n\ndef replay():\n"
        "    if pa.VERSION.startswith('2.') and pc.VERSION.startswith('2.'):\n"
        "        raise ValueError('pa 2 with pc 2 broke it')\n"
    ),
}
CASE = """
id = "{id}"
packages = ["pa", "pb", "pc"]
timeout = 60
[signature]
exception = "ValueError"
message_contains = ["broke it"]
[recorded_environment]
pa = "1.0"
pb = "1.0"
pc = "1.0"
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("culprit")
    wheels = root / "wheels"
    for name in ("pa", "pb", "pc"):
        for version in ("1.0", "1.5", "2.0"):
            # pb 1.5 and 2.0 need pa >= 1.5: applying pb's upgrade alone is unresolvable and drags pa along.
            requires = ["pa>=1.5"] if name == "pb" and version != "1.0" else []
            build_wheel(
                wheels,
                name,
                version,
                module_source={f"{name}/__init__.py": MODULE.format(version=version)},
                requires=requires,
            )
    index_url = write_simple_index(wheels, root / "simple")
    workspace = root / "project"
    for case_id, replay in REPLAYS.items():
        folder = workspace / "cases" / case_id
        folder.mkdir(parents=True)
        (folder / "case.toml").write_text(CASE.format(id=case_id))
        (folder / "replay.py").write_text(replay)
    (workspace / "versions.toml").write_text(
        f'[packages.pa]\nversions = ["1.0"]\n[sources]\ncarry-pip-config = false\nindex-url = "{index_url}"\n'
    )
    (workspace / "old.txt").write_text("pa==1.0\npb==1.0\npc==1.0\n")
    (workspace / "new.txt").write_text("pa==2.0\npb==2.0\npc==2.0\n")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "VIRTUAL_ENV"))}
    environ |= {
        "UV_CACHE_DIR": str(root / "uv-cache"),
        "UV_NO_CONFIG": "1",
        "UV_OFFLINE": "1",
        "HARNESS_HOME": str(root / "home"),
        "PYTHONPATH": str(REPO),
    }
    return workspace, environ


def culprit(project: tuple[Path, dict[str, str]], case_id: str) -> dict[str, object]:
    workspace, environ = project
    result = process.run(
        [
            sys.executable,
            "-m",
            "harness",
            "--root",
            workspace,
            "culprit",
            case_id,
            "--good-env",
            workspace / "old.txt",
            "--bad-env",
            workspace / "new.txt",
        ],
        env=environ,
        timeout=600,
    )
    assert result.returncode == 0, result.output
    data: dict[str, object] = json.loads((workspace / "reports" / "culprit" / f"{case_id}.json").read_text())
    data["stdout"] = result.stdout
    return data


def names(changes: object) -> list[str]:
    assert isinstance(changes, list)
    return [change["name"] for change in changes]


def test_single_culprit_with_an_unresolvable_companion(project: tuple[Path, dict[str, str]]) -> None:
    found = culprit(project, "only_b")
    assert names(found["culprits"]) == ["pb"]
    assert "pc" in names(found["not_involved"])
    stdout = str(found["stdout"])
    assert "pb 1.0 -> 2.0 is the culprit" in stdout
    assert "first bad release 2.0" in stdout  # then bisected between 1.0 and 2.0, pa held at 2.0


def test_two_changes_that_only_break_together(project: tuple[Path, dict[str, str]]) -> None:
    found = culprit(project, "a_and_c")
    assert names(found["culprits"]) == ["pa", "pc"]
    assert "together" in str(found["stdout"])
