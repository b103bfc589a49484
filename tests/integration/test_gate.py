"""The gate end to end, offline, against the fake package: exit codes and the files CI reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from junitparser import Failure, JUnitXml, TestSuite

from tests.integration.conftest import FakeProject

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _matrix(fake_project: FakeProject) -> None:
    fake_project.write_versions('[packages.fakepkg]\nversions = ["1.3"]\n[packages.fakedep]\nversions = ["2.0"]\n')


def test_a_candidate_that_reproduces_fails_with_a_junit_failure(fake_project: FakeProject, tmp_path: Path) -> None:
    junit, summary = tmp_path / "junit.xml", tmp_path / "summary.md"
    result = fake_project.harness(
        "gate", "--candidate", "fakepkg==1.5", "--junit", str(junit), "--markdown", str(summary)
    )
    assert result.returncode == 1, result.output
    assert "fake_case" in result.stdout
    xml = JUnitXml.fromfile(str(junit))
    suites = [xml] if isinstance(xml, TestSuite) else list(xml)
    cases = [case for suite in suites for case in suite]
    failures = [r for case in cases for r in case.result if isinstance(r, Failure)]
    assert len(failures) == 1
    assert "FakeError" in (failures[0].type or "") + (failures[0].message or "")
    assert "fakepkg==1.5" in summary.read_text()


def test_a_good_candidate_passes(fake_project: FakeProject) -> None:
    requirements = fake_project.root / "requirements.txt"
    requirements.write_text("fakepkg==1.3  # the upgrade under review\nunrelated==9.9\n")
    result = fake_project.harness("gate", "--requirements", str(requirements))
    assert result.returncode == 0, result.output


def test_an_unbuildable_candidate_is_undecided_or_failed_when_strict(fake_project: FakeProject) -> None:
    assert fake_project.harness("gate", "--candidate", "fakepkg==1.7").returncode == 3
    assert fake_project.harness("gate", "--candidate", "fakepkg==1.7", "--strict").returncode == 1


def test_a_broken_requirements_file_is_bad_usage(fake_project: FakeProject, tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("fakepkg===\n")
    junit = tmp_path / "junit.xml"
    result = fake_project.harness("gate", "--requirements", str(requirements), "--junit", str(junit))
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("harness: error:")]
    assert len(errors) == 1 and "requirements.txt" in errors[0]
    assert "Traceback" not in result.output
    assert junit.is_file()


def test_static_known_bad_range_needs_no_build(fake_project: FakeProject, tmp_path: Path) -> None:
    known_bad = tmp_path / "known-bad.json"
    known_bad.write_text(
        json.dumps(
            {
                "schema": 1,
                "ranges": [
                    {
                        "case_id": "fake_case",
                        "package": "fakepkg",
                        "specifier": ">=1.4,<1.7",
                        "first_bad": "1.4",
                        "first_fixed": "1.7",
                        "found_at": None,
                    }
                ],
            }
        )
    )
    result = fake_project.harness("gate", "--static-only", "--known-bad", str(known_bad), "--candidate", "fakepkg==1.6")
    assert result.returncode == 1, result.output
    assert "known-bad range fakepkg<1.7,>=1.4 of case fake_case" in result.stdout
    accepted = tmp_path / "gate.toml"
    accepted.write_text('[[accept]]\ncase = "fake_case"\nuntil = 2999-01-01\nreason = "waiting for upstream"\n')
    result = fake_project.harness(
        "gate", "--static-only", "--known-bad", str(known_bad), "--accept", str(accepted), "--candidate", "fakepkg==1.6"
    )
    assert result.returncode == 0, result.output
    assert "waiting for upstream" in result.stdout


def test_nox_gate_session_keeps_the_exit_code(fake_project: FakeProject) -> None:
    assert fake_project.nox("-s", "gate", "--", "--candidate", "fakepkg==1.5").returncode == 1
    assert fake_project.nox("-s", "gate", "--", "--candidate", "fakepkg").returncode == 2
    assert fake_project.nox("-s", "gate", "--", "--candidate", "fakepkg==1.3").returncode == 0
