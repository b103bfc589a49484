"""Time travel end to end: a bisection against the loopback PEP 691 index, which serves upload times.

fakepkg 1.0..1.9 (uploaded one a day; 1.4-1.6 raise FakeError) each depend on fakeutil, whose 2.0, uploaded
long after every fakepkg release, breaks the replay in every one of them. Resolved as the index stood at each
release's upload, no fakepkg sees fakeutil 2.0 and the bisection finds 1.4 and 1.7; resolved as of today,
every release reproduces and there is no boundary. The held fakedep 2.0 and its dependency fakebase are
uploaded "today", after every cut-off: the exemption of the held pins' closure is all that lets them install.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from harness import process
from harness.environments.interface import BuildFailure, EnvironmentRequest
from harness.environments.uv import UvEnvironmentProvider
from harness.model.outcome import Outcome
from harness.model.pins import Pin
from harness.sources import PackageSources
from tests.fakeindex import (
    UPLOAD_EPOCH,
    build_wheel,
    fake_error_message,
    isolated_uv_env,
    make_fake_dependency,
    make_fake_package,
    serve_pep691,
)

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
VERSIONS = tuple(f"1.{minor}" for minor in range(10))
TODAY = UPLOAD_EPOCH + timedelta(days=400)
CASE = """
id = "tt_case"
title = "fakepkg raises FakeError, and so does every release once fakeutil 2.0 is out"
packages = ["fakepkg", "fakedep"]
timeout = 20

[parameters]
n = 3

[signature]
exception = "fakepkg.FakeError"
message_contains = ["pattern 'n -> n 1'"]

[recorded_environment]
fakepkg = "1.5"
fakedep = "2.0"
"""
REPLAY = f"""
import fakepkg
import fakeutil


def replay(n: int = 3) -> None:
    if fakeutil.VERSION == "2.0":  # what a dependency's later release does to every fakepkg
        raise fakepkg.FakeError({fake_error_message(3)!r})
    assert fakepkg.compute(n) == [[i] for i in range(n)]
"""


@dataclass(frozen=True)
class Project:
    root: Path
    environ: dict[str, str]

    def harness(self, *args: str) -> process.Completed:
        argv: list[str | Path] = [sys.executable, "-m", "harness", "--root", self.root, *args]
        return process.run(argv, cwd=REPO, env=self.environ, timeout=600)

    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.root / "reports" / "bisect" / "tt_case--fakepkg.json").read_text())
        return data

    def records(self) -> dict[str, dict[str, Any]]:
        folder = self.root / "reports" / "records" / "tt_case"
        found = (json.loads(path.read_text()) for path in folder.glob("*.json"))
        return {record["key"]: record for record in found}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    tmp = tmp_path_factory.mktemp("time-travel")
    wheels = tmp / "wheels"
    make_fake_package(wheels, versions=VERSIONS, requires={v: ["fakeutil"] for v in VERSIONS})
    make_fake_dependency(wheels, name="fakeutil", versions=("1.0", "2.0"))
    make_fake_dependency(wheels, name="fakebase", versions=("1.0",))
    build_wheel(
        wheels, "fakedep", "2.0", module_source={"fakedep/__init__.py": 'VERSION = "2.0"\n'}, requires=["fakebase"]
    )
    times = {"fakeutil==2.0": UPLOAD_EPOCH + timedelta(days=60), "fakedep==2.0": TODAY, "fakebase==1.0": TODAY}
    root = tmp / "project"
    case_dir = root / "cases" / "tt_case"
    case_dir.mkdir(parents=True)
    (case_dir / "case.toml").write_text(CASE, encoding="utf-8")
    (case_dir / "replay.py").write_text(REPLAY, encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "VIRTUAL_ENV"))}
    # No UV_OFFLINE: uv must reach the loopback server, and only it (no other index is configured).
    environ |= {"UV_CACHE_DIR": str(tmp / "uv-cache"), "UV_NO_CONFIG": "1", "HARNESS_HOME": str(tmp / "home")}
    environ |= {"PYTHONPATH": str(REPO)}
    with serve_pep691(wheels, upload_times=times) as url:
        sources = f'[sources]\ncarry-pip-config = false\nindex-url = "{url}"\n'
        versions = '[packages.fakepkg]\nversions = ["1.5"]\n[packages.fakedep]\nversions = ["2.0"]\n'
        (root / "versions.toml").write_text(f'python = "3.11"\n{versions}{sources}', encoding="utf-8")
        yield Project(root, environ)


def cut_off(version: str) -> str:
    """The date the harness should resolve a release with: an hour after its upload (day k for 1.k)."""
    uploaded = UPLOAD_EPOCH + timedelta(days=int(version.split(".")[1]))
    return (uploaded + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_each_release_is_resolved_as_the_index_stood_at_its_upload(project: Project) -> None:
    result = project.harness("bisect", "tt_case", "fakepkg")
    assert result.returncode == 0, result.output
    report = project.report()
    assert (report["regression"]["last_good"], report["regression"]["first_bad"]) == ("1.3", "1.4")
    assert (report["fix"]["last_bad"], report["fix"]["first_fixed"]) == ("1.6", "1.7")
    records = project.records()
    probed = [records[probe["record_key"]] for probe in report["probes"]]
    assert len(probed) >= 4
    for record in probed:
        version = record["requested"]["fakepkg"]
        assert record["exclude_newer"] == cut_off(version), version
        assert record["current_packages"] == ["fakebase", "fakedep"]  # the held pin and its closure
        assert record["resolved"] == {"fakebase": "1.0", "fakedep": "2.0", "fakepkg": version, "fakeutil": "1.0"}
    upload_dates = {release["version"]: release["upload_time"] for release in report["releases"]}
    assert upload_dates["1.4"].startswith((UPLOAD_EPOCH + timedelta(days=4)).strftime("%Y-%m-%d"))


def test_without_time_travel_every_release_sees_todays_dependency(project: Project) -> None:
    result = project.harness("bisect", "tt_case", "fakepkg", "--no-time-travel")
    # No release passes against today's dependency, so neither boundary exists: an incomplete bisection (3).
    assert result.returncode == 3, result.output
    assert "no good release found before 1.0" in result.stdout
    report = project.report()
    outcomes = {probe["version"]: probe["outcome"] for probe in report["probes"]}
    assert set(outcomes.values()) == {"REPRODUCED"}
    assert "1.0" in outcomes and "1.9" in outcomes  # it looked all the way back and all the way forward
    assert (report["regression"] or {}).get("first_bad") != "1.4"
    assert (report["fix"] or {}).get("first_fixed") is None
    records = project.records()
    for probe in report["probes"]:
        record = records[probe["record_key"]]
        assert (record["exclude_newer"], record["current_packages"]) == (None, [])
        assert record["resolved"]["fakeutil"] == "2.0"


def test_a_fresh_rerun_probes_again_without_resolving_again(project: Project) -> None:
    # Each release is resolved as the index stood an hour after its upload: nothing uploaded since can change
    # that resolution, so --fresh (probe again) reuses the stored locks instead of asking the index again.
    assert project.harness("bisect", "tt_case", "fakepkg").returncode == 0
    again = project.harness("bisect", "tt_case", "fakepkg", "--fresh")
    assert again.returncode == 0, again.output
    report = project.report()
    assert all(not probe["reused"] for probe in report["probes"])  # probed afresh
    records = project.records()
    for probe in report["probes"]:
        record = records[probe["record_key"]]
        if record["outcome"] in ("PASSED", "REPRODUCED"):
            assert record["timings"]["resolve"] == 0.0, record["requested"]


def test_a_time_travelled_conflict_is_kept_and_a_missing_pin_is_asked_again(tmp_path: Path) -> None:
    # fakepkg 1.0 needs fakeutil>=2, which was uploaded sixty days after it: as the index stood at day 5 the
    # request cannot resolve, and never will. A pin to a fakepkg that is not there yet may resolve one day.
    wheels = tmp_path / "wheels"
    make_fake_package(wheels, versions=("1.0",), requires={"1.0": ["fakeutil>=2"]})
    make_fake_dependency(wheels, name="fakeutil", versions=("1.0", "2.0"))
    times = {"fakeutil==2.0": UPLOAD_EPOCH + timedelta(days=60)}
    day_5 = (UPLOAD_EPOCH + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    environ = isolated_uv_env(tmp_path / "uv-cache")
    with serve_pep691(wheels, upload_times=times) as url:
        sources = PackageSources(index_url=url)
        conflict, absent = (
            EnvironmentRequest((Pin.of("fakepkg", version),), "3.11", sources, exclude_newer=day_5)
            for version in ("1.0", "1.1")
        )
        provider = UvEnvironmentProvider(tmp_path / "home", environ=environ)
        first = [provider.prepare(request, fresh=True) for request in (conflict, absent)]
        assert all(isinstance(f, BuildFailure) and f.verdict.outcome is Outcome.UNRESOLVABLE for f in first), first
    # The index is gone: only what was kept can answer.
    later = UvEnvironmentProvider(tmp_path / "home", environ=environ)
    kept, asked = later.prepare(conflict, fresh=True), later.prepare(absent, fresh=True)
    assert isinstance(kept, BuildFailure) and kept.verdict.outcome is Outcome.UNRESOLVABLE
    assert kept.verdict.detail == first[0].verdict.detail and kept.resolve_seconds == 0.0  # type: ignore[union-attr]
    assert isinstance(asked, BuildFailure) and asked.verdict.outcome is Outcome.UNAVAILABLE
