"""The recorded x-transformers failure with the real packages: repro, bisection from full history, gate.

Each test stands alone in its own project (see conftest.py): any one can run by itself, in any order.
"""

from __future__ import annotations

import json

import pytest
from junitparser import Error, Failure, JUnitXml, TestSuite

from tests.realworld.conftest import CASE, RealProject

pytestmark = pytest.mark.realworld


def test_reproduces_on_1_42_21_and_passes_on_1_42_20_and_1_43_2(real_project: RealProject) -> None:
    real_project.write_versions(
        {"x-transformers": ["1.42.20", "1.42.21", "1.43.2"], "einops": ["0.8.0"], "torch": ["2.13.0"]}
    )
    result = real_project.harness("repro", "--mode", "fork")
    assert result.returncode == 0, result.output
    summary = json.loads((real_project.root / "reports" / CASE / "summary.json").read_text())
    outcomes = {cell["row"]: cell["outcome"] for cell in summary["cells"]}
    assert outcomes == {"1.42.20": "PASSED", "1.42.21": "REPRODUCED", "1.43.2": "PASSED"}
    record = next(
        json.loads(path.read_text())
        for path in (real_project.root / "reports" / "records" / CASE).glob("*.json")
        if json.loads(path.read_text())["outcome"] == "REPRODUCED"
    )
    assert record["error"]["type"] == "einops.EinopsError"
    assert 'pattern "n -> n 1"' in record["error"]["message"]
    assert record["resolved"]["torch"].startswith("2.13.0")


def test_bisection_finds_both_boundaries_from_the_full_history(real_project: RealProject) -> None:
    real_project.write_versions({"x-transformers": ["1.42.21"], "einops": ["0.8.0"], "torch": ["2.13.0"]})
    result = real_project.harness("bisect", CASE, "x-transformers", "--mode", "fork")
    assert result.returncode == 0, result.output
    report = json.loads((real_project.root / "reports" / "bisect" / f"{CASE}--x-transformers.json").read_text())
    assert (report["regression"]["last_good"], report["regression"]["first_bad"]) == ("1.42.20", "1.42.21")
    assert (report["fix"]["last_bad"], report["fix"]["first_fixed"]) == ("1.43.1", "1.43.2")
    assert len(report["releases"]) > 500  # the whole history was on the table, with no hints
    known_bad = json.loads((real_project.root / "reports" / "known-bad.json").read_text())
    assert known_bad["ranges"][0]["specifier"] == ">=1.42.21,<1.43.2"

    again = real_project.harness("bisect", CASE, "x-transformers")
    assert again.returncode == 0
    assert f"{len(report['probes'])} from stored records" in again.stdout


@pytest.mark.parametrize(("candidate", "status"), [("x-transformers==1.43.1", 1), ("x-transformers==1.43.2", 0)])
def test_gate_replays_the_case_live(real_project: RealProject, candidate: str, status: int) -> None:
    real_project.write_versions({"x-transformers": ["1.42.21"], "einops": ["0.8.0"], "torch": ["2.13.0"]})
    # The static layer is off: no known-bad range, so the verdict can only come from the live probe.
    known_bad = real_project.root / "empty-known-bad.json"
    known_bad.write_text('{"schema": 1, "ranges": []}\n')
    junit = real_project.root / "reports" / "gate" / "junit.xml"
    result = real_project.harness(
        "gate", "--candidate", candidate, "--known-bad", str(known_bad), "--junit", str(junit), "--mode", "fork"
    )
    assert result.returncode == status, result.output
    xml = JUnitXml.fromfile(str(junit))
    suites = [xml] if isinstance(xml, TestSuite) else list(xml)
    cases = [case for suite in suites for case in suite]
    assert cases, "the gate wrote no test case: nothing was replayed"
    problems = [r for case in cases for r in case.result if isinstance(r, Failure | Error)]
    if status == 0:
        assert problems == []
        return
    (failure,) = problems
    assert isinstance(failure, Failure)
    assert failure.type == "einops.EinopsError"
    assert 'rearrange-reduction pattern "n -> n 1"' in (failure.message or "")
    assert "KnownBadRange" not in junit.read_text()
    assert "x-transformers==1.43.1" in " ".join(case.name or "" for case in cases)


def test_culprit_between_a_good_and_a_bad_environment(real_project: RealProject) -> None:
    real_project.write_versions({"x-transformers": ["1.42.21"], "einops": ["0.8.0"], "torch": ["2.13.0"]})
    good, bad = real_project.root / "good.txt", real_project.root / "bad.txt"
    good.write_text("x-transformers==1.42.20\neinops==0.8.0\ntorch==2.13.0\n")
    bad.write_text("x-transformers==1.43.1\neinops==0.8.2\ntorch==2.14.1\n")
    result = real_project.harness("culprit", CASE, "--good-env", str(good), "--bad-env", str(bad), "--mode", "fork")
    assert result.returncode == 0, result.output
    assert "x-transformers 1.42.20 -> 1.43.1 is the culprit" in result.stdout
    assert "einops 0.8.0 -> 0.8.2 and torch 2.13.0 -> 2.14.1 are not involved" in result.stdout
    assert "first bad release 1.42.21" in result.stdout
