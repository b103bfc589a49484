"""Flaky failures end to end, offline: a fake package whose bad releases fail in every other run.

The fake's flaky versions raise when ``HARNESS_RUN_INDEX`` plus the version's rank is even, so every run is
deterministic: with one run per probe, 1.3 and 1.5 pass their single run although they carry the bug.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.model.outcome import Outcome
from tests.integration.conftest import FakeProject, make_project

pytestmark = pytest.mark.integration

VERSIONS = tuple(f"1.{minor}" for minor in range(10))
FLAKY = ("1.3", "1.4", "1.5", "1.6")


def flaky_project(root: Path, *, repeat: int | None) -> FakeProject:
    project = make_project(
        root, versions=VERSIONS, bad=(), hang=(), other_error=(), unresolvable=(), flaky=FLAKY, recorded="1.6"
    )
    project.write_versions('[packages.fakepkg]\nversions = ["1.6"]\n[packages.fakedep]\nversions = ["2.0"]\n')
    if repeat is not None:
        case_toml = project.root / "cases" / "fake_case" / "case.toml"
        text = case_toml.read_text(encoding="utf-8")
        case_toml.write_text(text.replace("\n[parameters]", f"repeat = {repeat}\n\n[parameters]", 1), encoding="utf-8")
    return project


def bisection(project: FakeProject) -> dict[str, object]:
    data = json.loads((project.root / "reports" / "bisect" / "fake_case--fakepkg.json").read_text())
    assert isinstance(data, dict)
    return data


def test_the_fake_alternates_as_documented(tmp_path: Path) -> None:
    package = flaky_project(tmp_path, repeat=None).package
    assert [package.reproduces_in_run("1.3", i) for i in range(4)] == [False, True, False, True]
    assert [package.reproduces_in_run("1.4", i) for i in range(4)] == [True, False, True, False]
    assert package.expected_outcome("1.5") is Outcome.FLAKY


def test_with_six_runs_per_probe_the_boundaries_are_exact(tmp_path: Path) -> None:
    project = flaky_project(tmp_path, repeat=6)
    result = project.harness("bisect", "fake_case", "fakepkg")
    assert result.returncode == 0, result.output
    report = bisection(project)
    regression, fix = report["regression"], report["fix"]
    assert isinstance(regression, dict) and isinstance(fix, dict)
    assert (regression["status"], regression["last_good"], regression["first_bad"]) == ("found", "1.2", "1.3")
    assert (fix["status"], fix["last_bad"], fix["first_fixed"]) == ("found", "1.6", "1.7")
    probes = report["probes"]
    assert isinstance(probes, list)
    assert {p["version"]: p["outcome"] for p in probes if p["version"] in FLAKY} == dict.fromkeys(
        [p["version"] for p in probes if p["version"] in FLAKY], "FLAKY"
    )
    confirmation = report["confirmation"]
    assert isinstance(confirmation, dict) and confirmation["runs"] == 6
    assert {r["version"] for r in confirmation["reprobes"]} == {"1.2", "1.3", "1.6", "1.7"}
    assert all(r["confirmed"] for r in confirmation["reprobes"])
    known_bad = json.loads((project.root / "reports" / "known-bad.json").read_text())
    assert [r["specifier"] for r in known_bad["ranges"]] == [">=1.3,<1.7"]
    markdown = (project.root / "reports" / "bisect" / "fake_case--fakepkg.md").read_text()
    assert "## Boundary confirmation" in markdown and "FLAKY 3/6" in markdown
    assert "boundaries confirmed" in result.stdout
    print(result.stdout)  # the probe counts, for the closing note


def test_with_one_run_per_probe_the_lucky_boundary_is_reported_unconfirmed(tmp_path: Path) -> None:
    project = flaky_project(tmp_path, repeat=None)
    result = project.harness("bisect", "fake_case", "fakepkg", "--repeat", "1")
    # An unconfirmed boundary is no boundary: the bisection is incomplete (3) and says why in one line.
    assert result.returncode == 3, result.output
    assert "unconfirmed" in result.stderr
    report = bisection(project)
    regression = report["regression"]
    assert isinstance(regression, dict)
    # One run of 1.5 passed, so the search drew 1.5 -> 1.6; three more runs of 1.5 reproduced twice.
    assert regression["status"] == "unconfirmed"
    assert regression["first_bad"] != "1.6"
    assert "1.3" in regression["candidates"] and "1.6" not in regression["candidates"]
    confirmation = report["confirmation"]
    assert isinstance(confirmation, dict) and confirmation["runs"] == 3
    contradicted = [r for r in confirmation["reprobes"] if not r["confirmed"]]
    assert [(r["version"], r["side"]) for r in contradicted] == [("1.5", "last good")]
    # The gate never draws a wrong boundary: only confirmed-bad releases are blocked, and every candidate lies
    # in a range it reports as uncertain (undecided).
    known_bad = json.loads((project.root / "reports" / "known-bad.json").read_text())
    (entry,) = known_bad["ranges"]
    confirmed = re.match(r">=([\d.]+)", entry["specifier"])
    assert confirmed is not None and tuple(map(int, confirmed.group(1).split("."))) >= (1, 5)
    lowest = min(
        tuple(map(int, m.group(1).split("."))) for u in entry["uncertain"] if (m := re.match(r">=([\d.]+)", u))
    )
    assert lowest <= (1, 3)
    markdown = (project.root / "reports" / "bisect" / "fake_case--fakepkg.md").read_text()
    assert "unconfirmed" in markdown and "**no**" in markdown
    assert "UNCONFIRMED" in result.stdout
    print(result.stdout)


def test_check_flaky_tells_deterministic_from_flaky(tmp_path: Path) -> None:
    project = flaky_project(tmp_path, repeat=None)
    flaky = project.harness("check-flaky", "fake_case", "--with", "fakepkg==1.5", "--repeat", "6")
    assert flaky.returncode == 1, flaky.output
    assert "flaky: 3/6 reproduced; use --repeat >= 7" in flaky.stdout
    steady = project.harness("check-flaky", "fake_case", "--with", "fakepkg==1.0", "--repeat", "4")
    assert steady.returncode == 0, steady.output
    assert "deterministic: 0/4 reproduced (it passes here)" in steady.stdout
