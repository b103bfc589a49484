"""A Python axis, offline: one versions.toml, two interpreters found by uv, sessions named by their Python."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest

from harness import process
from harness.environments.uv import find_uv
from tests.integration.conftest import FakeProject, make_project

pytestmark = pytest.mark.integration

PYENV_VERSIONS = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"


def with_every_pyenv_version(environ: dict[str, str]) -> dict[str, str]:
    """pyenv's shims answer only for the versions `pyenv global` names, and uv stops at a shim that fails;
    naming every installed version lets uv's discovery find each interpreter, as on a machine set up for it.
    A PYENV_VERSION already set (`pyenv exec`, which runs `nox` through its shim, sets one) keeps its place first.
    """
    if not PYENV_VERSIONS.is_dir():
        return environ
    chosen = [v for v in environ.get("PYENV_VERSION", "").split(":") if v]
    installed = sorted(p.name for p in PYENV_VERSIONS.iterdir() if (p / "bin").is_dir())
    return {**environ, "PYENV_VERSION": ":".join(dict.fromkeys([*chosen, *installed]))}


def project_with_pythons(tmp_path: Path, pythons: list[str], extra: str = "") -> FakeProject:
    project = make_project(tmp_path, hang=(), unresolvable=())
    project = dataclasses.replace(project, environ=with_every_pyenv_version(project.environ))
    for python in pythons:
        if python != "3.99" and not process.run([find_uv(), "python", "find", python], env=project.environ).ok:
            pytest.skip(f"uv finds no Python {python} on this machine")
    listed = ", ".join(f'"{p}"' for p in pythons)
    (project.root / "versions.toml").write_text(
        f"python = [{listed}]\n{extra}\n"
        '[packages.fakepkg]\nversions = ["1.3", "1.5"]\n[packages.fakedep]\nversions = ["2.0"]\n'
        f'[sources]\ncarry-pip-config = false\nindex-url = "{project.index_url}"\n',
        encoding="utf-8",
    )
    return project


def records(project: FakeProject) -> list[dict[str, Any]]:
    folder = project.root / "reports" / "records" / "fake_case"
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def test_each_python_is_an_axis_of_sessions_records_and_summaries(tmp_path: Path) -> None:
    project = project_with_pythons(tmp_path, ["3.11", "3.12"])
    listing = project.nox("-l", "--json")
    assert listing.returncode == 0, listing.output
    names = [s["session"] for s in json.loads(listing.stdout) if s["name"] == "repro"]
    assert names == [
        "repro(python=3.11,fakepkg==1.3,fakedep==2.0)",
        "repro(python=3.11,fakepkg==1.5,fakedep==2.0)",
        "repro(python=3.12,fakepkg==1.3,fakedep==2.0)",
        "repro(python=3.12,fakepkg==1.5,fakedep==2.0)",
    ]
    one = project.nox("-s", names[3])
    assert one.returncode == 0, one.output
    assert "REPRODUCED" in one.output
    ((only,),) = [records(project)]
    assert only["python"] == "3.12" and str(only["python_full"]).startswith("3.12.")

    # fakedep is one pure-Python wheel for every Python: the fork worker holding it under 3.11 must not serve 3.12.
    run = project.harness("repro", "--preload", "fakedep")
    assert run.returncode == 0, run.output
    assert {(r["python"], r["mode"]) for r in records(project)} >= {("3.11", "fork"), ("3.12", "fork")}
    found = {(r["python"], r["requested"]["fakepkg"]): (r["outcome"], str(r["python_full"])) for r in records(project)}
    assert {key: outcome for key, (outcome, _) in found.items()} == {
        ("3.11", "1.3"): "PASSED",
        ("3.11", "1.5"): "REPRODUCED",
        ("3.12", "1.3"): "PASSED",
        ("3.12", "1.5"): "REPRODUCED",
    }
    assert all(full.startswith(python + ".") for (python, _), (_, full) in found.items())
    summary = json.loads((project.root / "reports" / "fake_case" / "summary.json").read_text())
    assert summary["columns"]["packages"] == ["python", "fakedep"]
    assert summary["columns"]["labels"] == ["python 3.11 · fakedep 2.0", "python 3.12 · fakedep 2.0"]
    assert len(summary["cells"]) == 4
    assert "python 3.12 · fakedep 2.0" in (project.root / "reports" / "index.html").read_text()


def test_a_missing_python_is_one_line_or_a_recorded_outcome_as_versions_toml_says(tmp_path: Path) -> None:
    project = project_with_pythons(tmp_path / "error", ["3.11", "3.99"])
    stopped = project.harness("repro")
    assert stopped.returncode == 2
    assert "versions.toml: python 3.99 is on the Python axis but " in stopped.stderr
    assert 'set missing-python = "record"' in stopped.stderr
    assert stopped.stderr.count("\n") == 1, stopped.stderr
    assert records(project) == []

    project = project_with_pythons(tmp_path / "record", ["3.11", "3.99"], 'missing-python = "record"')
    recorded = project.harness("repro")
    assert recorded.returncode == 0, recorded.output
    outcomes = {(r["python"], r["requested"]["fakepkg"]): r["outcome"] for r in records(project)}
    assert outcomes == {
        ("3.11", "1.3"): "PASSED",
        ("3.11", "1.5"): "REPRODUCED",
        ("3.99", "1.3"): "INSTALL_FAILED",
        ("3.99", "1.5"): "INSTALL_FAILED",
    }
    missing = next(r for r in records(project) if r["python"] == "3.99")
    assert missing["detail"] == "no Python 3.99 on this machine"
    assert "3.99" in str(missing["installer_message"])
