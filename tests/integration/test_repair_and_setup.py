"""Offline: releases that import an undeclared module are repaired, and set-up errors are skipped, not the bug."""

from __future__ import annotations

import json
import math

import pytest

from tests.fakeindex import make_fake_dependency, make_fake_package, write_simple_index
from tests.integration.conftest import FakeProject, offline_environ

pytestmark = pytest.mark.integration

VERSIONS = tuple(f"1.{minor}" for minor in range(10))
BAD = ("1.3", "1.4", "1.5", "1.6", "1.7", "1.8")
UNDECLARED = {f"1.{minor}": ["fakeextra"] for minor in range(7)}  # 1.0-1.6 import fakeextra undeclared

UNDECLARED_CASE = """
id = "{id}"
packages = ["fakepkg"]
timeout = 30

[parameters]
n = 3

[signature]
exception = "fakepkg.FakeError"
message_contains = ["pattern 'n -> n 1'"]

[recorded_environment]
fakepkg = "1.5"
"""

PLAIN_REPLAY = """
import fakepkg


def replay(n):
    assert fakepkg.compute(n) == [[i] for i in range(n)]
"""

SETUP_REPLAY = """
import fakepkg


def setup(n):
    # Building the "model" fails in 1.1 with the very exception the signature names: not the bug.
    if fakepkg.__version__ == "1.1":
        raise fakepkg.FakeError("pattern 'n -> n 1' could not be built")
    return n


def replay(state, n):
    assert fakepkg.compute(state) == [[i] for i in range(n)]
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> FakeProject:
    root = tmp_path_factory.mktemp("repair")
    wheels = root / "wheels"
    package = make_fake_package(wheels, versions=VERSIONS, bad=BAD, undeclared=UNDECLARED)
    make_fake_dependency(wheels, name="fakeextra", versions=("1.0",))
    index_url = write_simple_index(wheels, root / "simple")
    for case_id, replay in (("undeclared", PLAIN_REPLAY), ("setup_error", SETUP_REPLAY)):
        folder = root / "project" / "cases" / case_id
        folder.mkdir(parents=True)
        (folder / "case.toml").write_text(UNDECLARED_CASE.format(id=case_id), encoding="utf-8")
        (folder / "replay.py").write_text(replay, encoding="utf-8")
    environ = offline_environ(root)
    fake = FakeProject(root / "project", index_url, package, environ)
    fake.write_versions('[packages.fakepkg]\nversions = ["1.5"]\n')
    return fake


def bisection(project: FakeProject, case_id: str) -> dict[str, object]:
    path = project.root / "reports" / "bisect" / f"{case_id}--fakepkg.json"
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def records(project: FakeProject, case_id: str) -> list[dict[str, object]]:
    folder = project.root / "reports" / "records"
    found = [json.loads(path.read_text(encoding="utf-8")) for path in folder.rglob("*.json")]
    return [record for record in found if record.get("case_id") == case_id]


def bound(count: int) -> int:
    return 2 * (math.ceil(math.log2(count)) + 1) + 2 * math.ceil(math.log2(count)) + 2


def test_undeclared_dependency_is_repaired_and_the_boundaries_are_exact(project: FakeProject) -> None:
    result = project.harness("bisect", "undeclared", "fakepkg")
    assert result.returncode == 0, result.output
    report = bisection(project, "undeclared")
    assert (report["regression"]["last_good"], report["regression"]["first_bad"]) == ("1.2", "1.3")  # type: ignore[index]
    assert (report["fix"]["last_bad"], report["fix"]["first_fixed"]) == ("1.8", "1.9")  # type: ignore[index]
    probes = report["probes"]
    assert isinstance(probes, list) and len(probes) <= bound(len(VERSIONS))
    print(f"undeclared: {len(probes)} probes")
    stored = records(project, "undeclared")
    repaired = {record["requested"]["fakepkg"]: record["repairs"] for record in stored if record["repairs"]}  # type: ignore[index]
    assert repaired and set(repaired) <= set(UNDECLARED)
    for version, repairs in repaired.items():
        assert repairs == [
            {
                "added": "fakeextra",
                "module": "fakeextra",
                "imported_by": "fakepkg/_extras.py",
                "reason": f"not declared by fakepkg {version}",
            }
        ]
    # Releases that declare what they import were probed once, unrepaired.
    assert all(not record["repairs"] for record in stored if record["requested"]["fakepkg"] not in UNDECLARED)  # type: ignore[index]
    markdown = (project.root / "reports" / "bisect" / "undeclared--fakepkg.md").read_text(encoding="utf-8")
    assert "## Repaired probes" in markdown and "added fakeextra (imported by fakepkg/\\_extras.py" in markdown


def test_without_repair_the_recorded_release_cannot_be_probed(project: FakeProject) -> None:
    result = project.harness("bisect", "undeclared", "fakepkg", "--no-repair")
    report = bisection(project, "undeclared")
    outcomes = {probe["version"]: probe["outcome"] for probe in report["probes"]}  # type: ignore[attr-defined]
    assert outcomes.get("1.5") == "DIFFERENT_ERROR", result.output
    assert "No module named 'fakeextra'" in result.output + json.dumps(report)
    markdown = (project.root / "reports" / "bisect" / "undeclared--fakepkg.md").read_text(encoding="utf-8")
    assert "## Repaired probes" not in markdown


def test_a_setup_error_that_matches_the_signature_is_skipped(project: FakeProject) -> None:
    only_11 = project.root / "only-1.1.toml"
    only_11.write_text(
        (project.root / "versions.toml").read_text(encoding="utf-8").replace('["1.5"]', '["1.1"]'), encoding="utf-8"
    )
    probed = project.harness("repro", "--case", "setup_error", "--versions", str(only_11), "--no-report")
    assert probed.returncode == 0, probed.output
    (setup_failed,) = [r for r in records(project, "setup_error") if r["requested"]["fakepkg"] == "1.1"]  # type: ignore[index]
    # 1.1's set-up raises the very exception the signature names, and that is not the bug.
    assert setup_failed["outcome"] == "SETUP_FAILED"
    assert str(setup_failed["detail"]).startswith("setup() raised fakepkg.FakeError")

    result = project.harness("bisect", "setup_error", "fakepkg")
    assert result.returncode == 0, result.output
    report = bisection(project, "setup_error")
    assert (report["regression"]["last_good"], report["regression"]["first_bad"]) == ("1.2", "1.3")  # type: ignore[index]
    assert (report["fix"]["last_bad"], report["fix"]["first_fixed"]) == ("1.8", "1.9")  # type: ignore[index]
    probes = report["probes"]
    assert isinstance(probes, list) and len(probes) <= bound(len(VERSIONS))
    print(f"setup_error: {len(probes)} probes: {[(p['version'], p['outcome']) for p in probes]}")
    assert all(p["outcome"] != "REPRODUCED" for p in probes if p["version"] == "1.1")
