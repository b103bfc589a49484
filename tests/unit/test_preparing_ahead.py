"""Environments prepared ahead of their probes: a few at once, in order, each taken once, and accidents retried."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.environments.interface import (
    BuildFailure,
    Environment,
    EnvironmentProvider,
    EnvironmentRequest,
    InstallStage,
)
from harness.model.case import Case, Parameters, RecordedEnvironment
from harness.model.outcome import Classification, Outcome, RunObservation
from harness.model.pins import Pin, pin_set
from harness.model.signature import RaisedError, Signature
from harness.probing.preparing import Prepared, PreparingAhead
from harness.probing.prober import Prober
from harness.probing.record_store import RecordStore
from harness.runners.interface import CaseRunner, RunResult
from harness.sources import PackageSources

CASE = Case(
    id="c",
    title="c",
    directory=Path("/cases/c"),
    packages=("fakepkg",),  # type: ignore[arg-type]
    parameters=(),
    signature=Signature("ValueError"),
    recorded=RecordedEnvironment("3.11", (Pin.of("fakepkg", "1.2"),)),
    timeout_seconds=10,
    content_hash="h",
)


def request(version: str) -> EnvironmentRequest:
    return EnvironmentRequest(pins=(Pin.of("fakepkg", version),), python="3.11", sources=PackageSources())


def environment(env_request: EnvironmentRequest, seconds: float = 0.0) -> Environment:
    return Environment("e", Path("/env"), Path("/env/bin/python"), pin_set(env_request.pins), seconds, 0.0, False, True)


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


class Gated:
    """A prepare function whose calls each wait for their version's gate to open."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.gates: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def __call__(self, env_request: EnvironmentRequest) -> Prepared:
        version = str(env_request.pins[0].version)
        with self._lock:
            self.started.append(version)
            gate = self.gates.setdefault(version, threading.Event())
        assert gate.wait(10)
        if version == "666":  # the one that raises
            raise RuntimeError("the provider broke")
        return environment(env_request)

    def open(self, version: str) -> None:
        with self._lock:
            self.gates.setdefault(version, threading.Event()).set()


def test_preparations_run_width_at_a_time_in_the_order_they_were_queued() -> None:
    gated = Gated()
    ahead: PreparingAhead[str, EnvironmentRequest] = PreparingAhead(gated, width=2)
    try:
        for version in ["1", "2", "3", "4"]:
            ahead.queue(version, request(version))
        wait_until(lambda: len(gated.started) == 2)
        time.sleep(0.05)
        assert gated.started == ["1", "2"]  # the third waits for a free thread
        gated.open("2")
        wait_until(lambda: len(gated.started) == 3)
        assert gated.started == ["1", "2", "3"]
        gated.open("1")
        wait_until(lambda: len(gated.started) == 4)
    finally:
        for version in ["1", "2", "3", "4"]:
            gated.open(version)
        ahead.close()


def test_taking_waits_for_a_preparation_under_way_and_drops_one_not_started() -> None:
    gated = Gated()
    ahead: PreparingAhead[str, EnvironmentRequest] = PreparingAhead(gated, width=1)
    try:
        ahead.queue("1", request("1"))
        ahead.queue("2", request("2"))
        wait_until(lambda: gated.started == ["1"])
        assert ahead.take("2") is None  # not started: its probe prepares it itself, and it is never prepared here
        taken: list[Prepared | None] = []
        taker = threading.Thread(target=lambda: taken.append(ahead.take("1")))
        taker.start()
        time.sleep(0.05)
        assert taken == []  # waiting for the preparation under way
        gated.open("1")
        taker.join(10)
        assert isinstance(taken[0], Environment) and str(taken[0].resolved[0].version) == "1"
        assert ahead.take("1") is None  # each result is handed over once
        ahead.queue("1", request("1"))  # taken already: not prepared again
        time.sleep(0.05)
        assert gated.started == ["1"]
    finally:
        gated.open("1")
        gated.open("2")
        ahead.close()


def test_a_preparation_that_raised_is_no_result_and_closing_drops_the_queue() -> None:
    gated = Gated()
    ahead: PreparingAhead[str, EnvironmentRequest] = PreparingAhead(gated, width=1)
    ahead.queue("666", request("666"))
    ahead.queue("2", request("2"))
    gated.open("666")
    assert ahead.take("666") is None
    wait_until(lambda: gated.started == ["666", "2"])
    ahead.queue("3", request("3"))
    closer = threading.Thread(target=ahead.close)
    closer.start()
    time.sleep(0.05)
    assert closer.is_alive()  # the preparation under way finishes first
    gated.open("2")
    closer.join(10)
    ahead.queue("4", request("4"))
    time.sleep(0.05)
    assert gated.started == ["666", "2"]  # neither the queued one nor one queued after closing ran


class Provider(EnvironmentProvider):
    """Versions in ``unresolvable`` fail to resolve, for want of the index (``accident``) or for good."""

    def __init__(self, unresolvable: dict[str, bool] | None = None) -> None:
        self.prepared: list[str] = []
        self.unresolvable = unresolvable or {}
        self._lock = threading.Lock()

    def prepare(self, request: EnvironmentRequest, *, fresh: bool = False) -> Environment | BuildFailure:
        version = str(request.pins[0].version)
        with self._lock:
            self.prepared.append(version)
            attempt = self.prepared.count(version)
        if version in self.unresolvable and (attempt == 1 or not self.unresolvable[version]):
            outcome = Outcome.UNAVAILABLE if self.unresolvable[version] else Outcome.UNRESOLVABLE
            return BuildFailure(InstallStage.RESOLVE, Classification(outcome, "no"), "no", 0.4, 0.0)
        return environment(request, seconds=0.4)

    def lock(self, request: EnvironmentRequest, *, fresh: bool = False) -> list[tuple[str, str, str]] | BuildFailure:
        raise AssertionError("not locked")


class Runner(CaseRunner):
    def run(self, environment: Environment, case: Case, parameters: Parameters, *, run_index: int = 0) -> RunResult:
        return RunResult(RunObservation(1, False, True, RaisedError("builtins.ValueError", "bug")), 0.0)


@pytest.mark.parametrize(
    ("unresolvable", "outcome", "prepared"),
    [
        ({}, Outcome.REPRODUCED, ["1.0"]),
        ({"1.0": False}, Outcome.UNRESOLVABLE, ["1.0"]),  # a verdict met ahead is the probe's answer
        ({"1.0": True}, Outcome.REPRODUCED, ["1.0", "1.0"]),  # an accident met ahead is tried again, now
    ],
)
def test_a_probe_takes_its_environment_prepared_ahead(
    tmp_path: Path, unresolvable: dict[str, bool], outcome: Outcome, prepared: list[str]
) -> None:
    provider = Provider(unresolvable)
    with Prober(provider, Runner(), RecordStore(tmp_path), python="3.11", sources=PackageSources()) as prober:
        probe = prober.request_for(CASE, (Pin.of("fakepkg", "1.0"),))
        prober.prepare_ahead([(CASE, probe)])
        wait_until(lambda: len(provider.prepared) == 1)
        record = prober.probe(CASE, probe).record
    assert record.outcome is outcome
    assert provider.prepared == prepared
    assert record.timings.resolve == 0.4  # the seconds its preparation took, wherever it ran


def test_probes_a_stored_record_answers_are_not_prepared_ahead(tmp_path: Path) -> None:
    provider = Provider()
    store = RecordStore(tmp_path)
    with Prober(provider, Runner(), store, python="3.11", sources=PackageSources()) as prober:
        stored = prober.request_for(CASE, (Pin.of("fakepkg", "1.0"),))
        prober.probe(CASE, stored)
        prober.prepare_ahead([(CASE, stored), (CASE, prober.request_for(CASE, (Pin.of("fakepkg", "2.0"),)))])
        wait_until(lambda: len(provider.prepared) == 2)
        time.sleep(0.05)
    assert provider.prepared == ["1.0", "2.0"]


class LastPrepared(Provider):
    """Remembers where each version was last installed, as a provider with stored locks does."""

    def __init__(self, events: list[str]) -> None:
        super().__init__()
        self.events = events

    def last_prepared(self, request: EnvironmentRequest) -> Environment | None:
        return environment(request) if str(request.pins[0].version) != "9.9" else None

    def prepare(self, request: EnvironmentRequest, *, fresh: bool = False) -> Environment | BuildFailure:
        self.events.append(f"prepare {request.pins[0].version}")
        return super().prepare(request, fresh=fresh)


class Warming(Runner):
    def __init__(self, events: list[str]) -> None:
        self.events = events

    def ready(self, environment: Environment, case: Case, *, guess_round: int = 0) -> bool:
        self.events.append(f"ready {environment.resolved[0].version}")
        return True


@pytest.mark.parametrize(
    ("fresh", "version", "events"),
    [
        (True, "1.0", ["ready 1.0", "prepare 1.0"]),  # the runner gets ready while the request resolves again
        (True, "9.9", ["prepare 9.9"]),  # never prepared before: nowhere to get ready yet
        (False, "1.0", ["prepare 1.0"]),  # its stored lock is reused: preparing it is instant anyway
    ],
)
def test_a_fresh_probe_gets_its_runner_ready_where_it_was_last_prepared(
    tmp_path: Path, fresh: bool, version: str, events: list[str]
) -> None:
    seen: list[str] = []
    store = RecordStore(tmp_path)
    prober = Prober(LastPrepared(seen), Warming(seen), store, python="3.11", sources=PackageSources(), fresh=fresh)
    with prober:
        prober.probe(CASE, prober.request_for(CASE, (Pin.of("fakepkg", version),)))
    assert seen == events


class VanishedEnvironment(Warming):
    def ready(self, environment: Environment, case: Case, *, guess_round: int = 0) -> bool:
        super().ready(environment, case, guess_round=guess_round)
        raise FileNotFoundError(environment.location)  # removed between finding it and starting a worker there


def test_a_head_start_that_finds_its_environment_gone_costs_the_probe_nothing(tmp_path: Path) -> None:
    seen: list[str] = []
    store = RecordStore(tmp_path)
    runner = VanishedEnvironment(seen)
    prober = Prober(LastPrepared(seen), runner, store, python="3.11", sources=PackageSources(), fresh=True)
    with prober:
        record = prober.probe(CASE, prober.request_for(CASE, (Pin.of("fakepkg", "1.0"),))).record
    assert seen == ["ready 1.0", "prepare 1.0"] and record.outcome is Outcome.REPRODUCED
