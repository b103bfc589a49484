"""Sweep, export and record end to end against the fake package, offline."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from harness import process
from tests.integration.conftest import FakeProject

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _matrix(fake_project: FakeProject) -> None:
    fake_project.write_versions('[packages.fakepkg]\nversions = ["1.5"]\n[packages.fakedep]\nversions = ["2.0"]\n')


def test_sweep_answers_which_parameters_reproduce(fake_project: FakeProject) -> None:
    bad = fake_project.harness("sweep", "fake_case")
    assert bad.returncode == 0, bad.output
    good = fake_project.harness("sweep", "fake_case", "--with", "fakepkg==1.3")
    assert good.returncode == 0, good.output
    tables = json.loads((fake_project.root / "reports" / "fake_case" / "sweep.json").read_text())
    by_pins = {tuple(t["pins"]): {r["parameters"]["n"]: r["outcome"] for r in t["rows"]} for t in tables}
    # The signature's "$n" is filled in per point: each point matches its own input shape.
    assert by_pins[("fakedep==2.0", "fakepkg==1.5")].items() >= {1: "REPRODUCED", 4: "REPRODUCED"}.items()
    assert by_pins[("fakedep==2.0", "fakepkg==1.3")].items() >= {1: "PASSED", 4: "PASSED"}.items()
    assert "reproduce the failure" in bad.stdout


def test_export_writes_a_paste_ready_report(fake_project: FakeProject) -> None:
    assert fake_project.harness("repro").returncode == 0
    result = fake_project.harness("export", "fake_case")
    assert result.returncode == 0, result.output
    text = (fake_project.root / "reports" / "fake_case" / "bug-report.md").read_text()
    assert "pip install 'fakepkg==1.5' 'fakedep==2.0'" in text
    assert "FakeError" in text and "def replay" in text


def test_record_turns_a_failing_script_into_a_case(fake_project: FakeProject, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    uv = [sys.executable, "-m", "uv"]
    assert process.run([*uv, "venv", "-q", venv], env=fake_project.environ).ok
    installed = process.run(
        [
            *uv,
            "pip",
            "install",
            "-q",
            "--python",
            venv / "bin" / "python",
            "--index-url",
            fake_project.index_url,
            "fakepkg==1.5",
            "fakedep==2.0",
        ],
        env=fake_project.environ,
    )
    assert installed.ok, installed.output
    script = tmp_path / "my_failure.py"
    script.write_text("import fakepkg\nprint(fakepkg.compute(2))\n")
    result = fake_project.harness(
        "record",
        str(script),
        "--id",
        "my_failure",
        "--packages",
        "fakepkg,fakedep",
        "--python",
        str(venv / "bin" / "python"),
    )
    assert result.returncode == 0, result.output
    case_toml = (fake_project.root / "cases" / "my_failure" / "case.toml").read_text()
    assert 'exception = "fakepkg.FakeError"' in case_toml
    assert 'fakepkg = "1.5"' in case_toml
    replayed = fake_project.harness("repro", "--case", "my_failure")
    assert replayed.returncode == 0, replayed.output
    summary = json.loads((fake_project.root / "reports" / "my_failure" / "summary.json").read_text())
    assert [cell["outcome"] for cell in summary["cells"]] == ["REPRODUCED"]
    again = fake_project.harness("record", str(script), "--id", "my_failure", "--packages", "fakepkg")
    assert again.returncode == 2 and "already exists" in again.stderr
