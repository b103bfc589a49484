"""Fork mode against real uv environments: two versions of the preloaded distribution, a hang, forked vs isolated.

The replay checks that the fakedep it imported is the one its own environment installed, so a worker that
handed its pre-imported fakedep 2.0 to a probe of fakedep 1.0 would turn that probe into a different error.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from harness.config import load_case
from harness.environments.interface import Environment, EnvironmentRequest
from harness.environments.uv import UvEnvironmentProvider
from harness.model.outcome import Outcome, classify_run
from harness.model.pins import Pin
from harness.runners.forkserver import ForkServerRunner
from harness.sources import PackageSources
from tests.integration.conftest import FakeProject, make_project

pytestmark = pytest.mark.integration

REPLAY = """
import importlib.metadata

import fakedep
import fakepkg


def replay(n: int = 3) -> None:
    installed = importlib.metadata.version("fakedep")
    # Fork mode shares pre-imported modules: the fakedep in memory must be the one this environment installed.
    assert fakedep.VERSION == installed, f"imported fakedep {fakedep.VERSION}, the environment has {installed}"
    try:
        result = fakepkg.compute(n)
    except fakepkg.FakeError as exc:
        raise fakepkg.FakeError(f"{exc} [fakedep {fakedep.VERSION}]") from None
    assert result == [[i] for i in range(n)]
"""
VERSIONS = '[packages.fakepkg]\nversions = ["1.3", "1.4", "1.8", "1.9"]\n[packages.fakedep]\nversions = ["1.0", "2.0"]'
EXPECTED = {
    (pkg, dep): outcome
    for pkg, outcome in (("1.3", "PASSED"), ("1.4", "REPRODUCED"), ("1.8", "TIMEOUT"), ("1.9", "PASSED"))
    for dep in ("1.0", "2.0")
}


def fork_project(root: Path) -> FakeProject:
    project = make_project(root, hang=("1.8",), other_error=(), unresolvable=(), timeout=4)
    (project.root / "cases" / "fake_case" / "replay.py").write_text(REPLAY, encoding="utf-8")
    return project


def records(project: FakeProject) -> list[dict[str, Any]]:
    folder = project.root / "reports" / "records" / "fake_case"
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def by_combination(project: FakeProject) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["requested"]["fakepkg"], r["requested"]["fakedep"]): r for r in records(project)}


def test_fork_mode_never_shares_a_worker_across_versions_and_survives_a_hang(tmp_path: Path) -> None:
    project = fork_project(tmp_path)
    project.write_versions(VERSIONS)
    isolated = project.harness("repro", "--mode", "isolated")
    assert isolated.returncode == 0, isolated.output
    assert {k: r["outcome"] for k, r in by_combination(project).items()} == EXPECTED

    forked = project.harness("repro", "--mode", "fork", "--preload", "fakedep", "--fresh")
    assert forked.returncode == 0, forked.output
    found = by_combination(project)
    assert {k: r["outcome"] for k, r in found.items()} == EXPECTED
    # Only the case's first probe runs isolated (it reports the imports); the hang did not end the forking.
    assert Counter(r["mode"] for r in found.values()) == {"fork": 7, "isolated": 1}
    for (_, dep), record in found.items():
        assert record["resolved"]["fakedep"] == dep
        if record["outcome"] == "REPRODUCED":
            assert record["error"]["message"].endswith(f"[fakedep {dep}]")


def test_a_worker_outlives_a_timed_out_child_and_serves_the_next_probe(tmp_path: Path) -> None:
    project = fork_project(tmp_path)
    case = load_case(project.root / "cases" / "fake_case")
    provider = UvEnvironmentProvider(tmp_path / "home", environ=project.environ)
    sources = PackageSources(index_url=project.index_url)

    def env(pkg: str, dep: str) -> Environment:
        built = provider.prepare(EnvironmentRequest((Pin.of("fakepkg", pkg), Pin.of("fakedep", dep)), "3.11", sources))
        assert isinstance(built, Environment), built
        return built

    runner = ForkServerRunner(preload=("fakedep",))
    try:
        first = runner.run(env("1.3", "2.0"), case, case.parameters)
        assert first.mode == "isolated" and "fakedep" in first.modules
        (worker,) = runner._workers
        assert worker.held["fakedep"][:2] == ("fakedep", "2.0")

        hung = runner.run(env("1.8", "2.0"), case, case.parameters)
        assert (hung.mode, hung.observation.timed_out) == ("fork", True)
        assert 4 <= hung.seconds < 15
        assert runner._workers == [worker] and worker.process.poll() is None

        after = runner.run(env("1.4", "2.0"), case, case.parameters)
        assert after.mode == "fork"
        assert classify_run(after.observation, case.signature.render(dict(case.parameters))).outcome is (
            Outcome.REPRODUCED
        )
        assert runner._workers == [worker]

        other = runner.run(env("1.3", "1.0"), case, case.parameters)
        assert other.mode == "fork" and other.observation.returncode == 0, other.observation
        assert len(runner._workers) == 2
        assert sorted(w.held["fakedep"][1] for w in runner._workers) == ["1.0", "2.0"]
        assert runner.refusals == []
    finally:
        runner.close()
    assert worker.process.poll() is not None


def test_fresh_resolves_each_request_once_per_run(tmp_path: Path) -> None:
    # --fresh asks for resolutions made now: a bisection's confirmation, or a guess probed ahead and then asked
    # for, repeats a request within the run, and resolving it again would only cost time.
    project = make_project(tmp_path)
    sources = PackageSources(index_url=project.index_url)
    request = EnvironmentRequest((Pin.of("fakepkg", "1.3"), Pin.of("fakedep", "2.0")), "3.11", sources)
    provider = UvEnvironmentProvider(tmp_path / "home", environ=project.environ)
    first, again = provider.prepare(request, fresh=True), provider.prepare(request, fresh=True)
    assert isinstance(first, Environment) and isinstance(again, Environment)
    assert (first.lock_reused, again.lock_reused, again.resolve_seconds) == (False, True, 0.0)
    assert again.environment_id == first.environment_id
    later = UvEnvironmentProvider(tmp_path / "home", environ=project.environ).prepare(request, fresh=True)
    assert isinstance(later, Environment) and not later.lock_reused  # the next run resolves again
    unforced = UvEnvironmentProvider(tmp_path / "home", environ=project.environ).prepare(request)
    assert isinstance(unforced, Environment) and unforced.lock_reused  # without --fresh, any stored lock serves


def test_the_environment_last_prepared_is_found_without_resolving(tmp_path: Path) -> None:
    # A fresh run's head start: the runner gets ready where the request was last installed while it resolves.
    project = make_project(tmp_path)
    sources = PackageSources(index_url=project.index_url)
    request = EnvironmentRequest((Pin.of("fakepkg", "1.3"), Pin.of("fakedep", "2.0")), "3.11", sources)
    provider = UvEnvironmentProvider(tmp_path / "home", environ=project.environ)
    assert provider.last_prepared(request) is None  # never prepared
    built = provider.prepare(request)
    assert isinstance(built, Environment), built
    later = UvEnvironmentProvider(tmp_path / "home", environ={**project.environ, "UV_INDEX_URL": "http://0.0.0.0:9"})
    found = later.last_prepared(request)
    assert found is not None
    assert (found.environment_id, found.location, found.locked) == (built.environment_id, built.location, built.locked)
    assert found.resolved == built.resolved
    other = EnvironmentRequest((Pin.of("fakepkg", "1.4"), Pin.of("fakedep", "2.0")), "3.11", sources)
    assert later.last_prepared(other) is None  # resolved by nobody yet
    shutil.rmtree(built.location)
    assert later.last_prepared(request) is None  # its lock is kept, its environment is gone


FREEZE_REPLAY = """
import gc

import fakedep


def replay(n: int = 3) -> None:
    raise ValueError(f"frozen={gc.get_freeze_count()}")
"""


def test_a_forked_child_finds_what_its_worker_holds_out_of_the_collectors_reach(tmp_path: Path) -> None:
    # A child's collections would otherwise walk (and copy) every page of what the worker imported.
    project = fork_project(tmp_path)
    (project.root / "cases" / "fake_case" / "replay.py").write_text(FREEZE_REPLAY, encoding="utf-8")
    case = load_case(project.root / "cases" / "fake_case")
    provider = UvEnvironmentProvider(tmp_path / "home", environ=project.environ)
    request = EnvironmentRequest(
        (Pin.of("fakepkg", "1.3"), Pin.of("fakedep", "2.0")), "3.11", PackageSources(index_url=project.index_url)
    )
    environment = provider.prepare(request)
    assert isinstance(environment, Environment), environment
    runner = ForkServerRunner(preload=("fakedep",))
    try:
        runs = [runner.run(environment, case, case.parameters) for _ in range(2)]
    finally:
        runner.close()
    frozen = [run.observation.error.message if run.observation.error else "" for run in runs]
    assert [run.mode for run in runs] == ["isolated", "fork"]
    assert frozen[0] == "frozen=0"
    assert int(frozen[1].removeprefix("frozen=")) > 1000, frozen
