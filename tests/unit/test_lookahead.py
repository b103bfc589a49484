"""Probing ahead with several jobs: the search sees the same probes in the same order, and the work is bounded."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from harness.bisection.driver import GUESSES_PER_JOB, Answer, lookahead, run_search
from harness.bisection.search import BisectVerdict, Direction, TransitionSearch
from harness.environments.interface import Environment
from harness.model.case import Case
from harness.model.outcome import Outcome
from harness.model.pins import Pin
from harness.probing.lookahead import Lookahead, NotProbedAhead, guess_round
from harness.probing.prober import Prober, ProbeResult
from harness.probing.record_store import RecordStore
from harness.sources import PackageSources
from tests.unit.test_repair import CASE, Provider, Runner

OUTCOMES = (Outcome.PASSED, Outcome.REPRODUCED, Outcome.INSTALL_FAILED, Outcome.UNRESOLVABLE)


class Table:
    """A probe answering from a table, counting calls and the most that ran at once."""

    def __init__(self, outcomes: dict[Version, Outcome], delay: float = 0.0) -> None:
        self.outcomes = outcomes
        self.delay = delay
        self.calls: list[Version] = []
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def __call__(self, release: Version) -> Answer:
        with self._lock:
            self.calls.append(release)
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        time.sleep(self.delay)
        with self._lock:
            self.running -= 1
        return Answer(self.outcomes[release])


def history(data: st.DataObject) -> tuple[list[Version], dict[Version, Outcome], Version]:
    draw = data.draw
    count = draw(st.integers(min_value=2, max_value=60))
    releases = [Version(f"1.{i}") for i in range(count)]
    first_bad = draw(st.integers(min_value=0, max_value=count - 1))
    outcomes = {release: Outcome.REPRODUCED if i >= first_bad else Outcome.PASSED for i, release in enumerate(releases)}
    for i in draw(st.lists(st.integers(min_value=0, max_value=count - 1), max_size=count // 2)):
        outcomes[releases[i]] = draw(st.sampled_from(OUTCOMES))
    bad = draw(st.sampled_from([r for r in releases if outcomes[r] is Outcome.REPRODUCED] or [releases[-1]]))
    outcomes[bad] = Outcome.REPRODUCED
    return releases, outcomes, bad


@settings(max_examples=60, deadline=None)
@given(st.data(), st.integers(min_value=2, max_value=4))
def test_several_jobs_consume_the_same_probes_with_bounded_extra_work(data: st.DataObject, jobs: int) -> None:
    releases, outcomes, bad = history(data)
    start = TransitionSearch.start(releases, Direction.REGRESSION, high=bad)
    alone, together = Table(outcomes), Table(outcomes)
    one = run_search(start, alone)
    several = run_search(start, together, jobs=jobs)
    assert several.result == one.result
    assert [p.event.item for p in several.probes] == [p.event.item for p in one.probes]
    assert [p.event.max_remaining for p in several.probes] == [p.event.max_remaining for p in one.probes]
    assert len(set(together.calls)) == len(together.calls), "an item was probed twice"
    assert len(together.calls) <= GUESSES_PER_JOB * jobs * max(1, len(one.probes))
    assert together.most_at_once <= jobs


def test_lookahead_walks_both_verdicts_breadth_first() -> None:
    releases = [Version(f"1.{i}") for i in range(16)]
    anchors = {releases[0]: BisectVerdict.GOOD, releases[-1]: BisectVerdict.BAD}
    search = TransitionSearch.start(releases, Direction.REGRESSION, low=releases[0], high=releases[-1], known=anchors)
    now = search.next_probe()
    assert now is not None
    after_bad = search.fold(now, BisectVerdict.BAD).next_probe()
    after_good = search.fold(now, BisectVerdict.GOOD).next_probe()
    assert None not in (after_bad, after_good) and len({now, after_bad, after_good}) == 3
    assert lookahead(search, 1) == [now]
    assert lookahead(search, 3) == [now, after_bad, after_good]
    assert len(lookahead(search, 7)) == 7


def test_two_jobs_really_probe_at_the_same_time() -> None:
    releases = [Version(f"1.{i}") for i in range(32)]
    outcomes = {r: Outcome.REPRODUCED if i >= 11 else Outcome.PASSED for i, r in enumerate(releases)}
    meeting = threading.Barrier(2, timeout=5)

    def probe(release: Version) -> Answer:
        if release in first_round:
            meeting.wait()  # only passes when two probes run at once
        return Answer(outcomes[release])

    start = TransitionSearch.start(releases, Direction.REGRESSION, low=releases[0], high=releases[-1])
    first_round = set(lookahead(start, 2))
    assert run_search(start, probe, jobs=2).result.after == releases[11]
    with pytest.raises(threading.BrokenBarrierError):
        meeting.reset()
        run_search(start, probe, jobs=1)


def test_the_handler_hears_probes_in_the_order_the_search_consumes_them() -> None:
    releases = [Version(f"1.{i}") for i in range(20)]
    outcomes = {r: Outcome.REPRODUCED if i >= 7 else Outcome.PASSED for i, r in enumerate(releases)}
    start = TransitionSearch.start(releases, Direction.REGRESSION, high=releases[-1])
    heard: list[Version] = []

    class Handler:
        def probe_started(self, event: object) -> None:
            heard.append(event.item)  # type: ignore[attr-defined]

        def probe_finished(self, *args: object) -> None: ...

        def finished(self, result: object) -> None: ...

    run = run_search(start, Table(outcomes, delay=0.01), jobs=3, handler=Handler())  # type: ignore[arg-type]
    assert heard == [p.event.item for p in run.probes]


class Choosy(Table):
    """A table whose guesses decline for some items (their fork worker is not running yet, say)."""

    def __init__(self, outcomes: dict[Version, Outcome], declines: set[Version]) -> None:
        super().__init__(outcomes, delay=0.005)
        self.declines = declines
        self.asked: list[tuple[Version, bool]] = []

    def __call__(self, release: Version) -> Answer:
        guessing = bool(guess_round())
        with self._lock:
            self.asked.append((release, guessing))
        if guessing and release in self.declines:
            raise NotProbedAhead
        return super().__call__(release)


@settings(max_examples=40, deadline=None)
@given(st.data(), st.integers(min_value=2, max_value=3))
def test_a_declined_guess_is_probed_when_asked_and_the_search_is_unchanged(data: st.DataObject, jobs: int) -> None:
    releases, outcomes, bad = history(data)
    declines = set(data.draw(st.lists(st.sampled_from(releases), max_size=len(releases))))
    start = TransitionSearch.start(releases, Direction.REGRESSION, high=bad)
    one = run_search(start, Table(outcomes))
    choosy = Choosy(outcomes, declines)
    several = run_search(start, choosy, jobs=jobs)
    assert several.result == one.result
    assert [p.event.item for p in several.probes] == [p.event.item for p in one.probes]
    # Each answer the search consumed was made, not declined: an item that declines as a guess was asked again.
    for probed in several.probes:
        assert probed.event.item not in declines or (probed.event.item, False) in choosy.asked
    assert choosy.most_at_once <= jobs


def test_the_item_wanted_now_is_never_a_guess_and_guesses_wait_for_a_free_thread() -> None:
    gate = threading.Event()
    seen: list[tuple[str, bool]] = []
    lock = threading.Lock()
    running = [0, 0]  # now, most

    def probe(item: str) -> str:
        with lock:
            seen.append((item, bool(guess_round())))
            running[0] += 1
            running[1] = max(running)
        gate.wait(5)
        with lock:
            running[0] -= 1
        return item

    with Lookahead(probe, 2) as ahead:
        ahead.start_next(["now", "a", "b", "c"])
        time.sleep(0.05)
        assert sorted(seen) == [("a", True), ("now", False)]  # two threads: the rest wait their turn
        ahead.start(["x", "b"], guesses=True)  # the search moved on: "c" is no longer worth guessing
        gate.set()
        assert ahead.answer("now") == "now" and ahead.answer("b") == "b"
    assert ("c", True) not in seen and ("x", True) in seen
    assert running[1] <= 2


def test_a_guess_that_declined_is_tried_again_in_a_later_round() -> None:
    ready = threading.Event()
    asked: list[tuple[str, bool]] = []

    def probe(item: str) -> str:
        asked.append((item, bool(guess_round())))
        if bool(guess_round()) and not ready.is_set():
            raise NotProbedAhead
        return item

    with Lookahead(probe, 2) as ahead:
        ahead.start(["g"], guesses=True)
        _wait_for(lambda: asked == [("g", True)])
        ready.set()
        ahead.start(["g"], guesses=True)
        _wait_for(lambda: len(asked) == 2)
        assert ahead.answer("g") == "g"
    assert asked == [("g", True), ("g", True)]  # the second guess ran, so the answer needed no third call


def _wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


class NotYetReady(Runner):
    def __init__(self) -> None:
        self.readiness_asked = 0

    def ready(self, environment: Environment, case: Case, *, guess_round: int = 0) -> bool:
        assert guess_round > 0
        self.readiness_asked += 1
        return False


def test_a_guess_the_runner_is_not_ready_for_stores_nothing_and_is_probed_when_wanted(tmp_path: Path) -> None:
    runner, provider = NotYetReady(), Provider()
    store = RecordStore(tmp_path)
    prober = Prober(provider, runner, store, python="3.11", sources=PackageSources())
    request = prober.request_for(CASE, (Pin.of("fakepkg", "1.2"),))

    def probe(key: str) -> ProbeResult:
        return prober.probe(CASE, request)

    with Lookahead(probe, 2) as ahead:
        ahead.start(["guess"], guesses=True)
        _wait_for(lambda: runner.readiness_asked == 1)
        assert store.get(CASE.id, request.key) is None  # declining is no outcome
        assert len(provider.asked) == 1  # its environment was prepared meanwhile
        result = ahead.answer("guess")
    assert not result.reused and store.get(CASE.id, request.key) == result.record
    assert runner.readiness_asked == 1  # wanted, it runs whether or not the runner is ready


def test_each_list_of_guesses_is_a_later_round_than_the_last() -> None:
    rounds: list[tuple[str, int]] = []

    def probe(item: str) -> str:
        rounds.append((item, guess_round()))
        return item

    with Lookahead(probe, 2) as ahead:
        ahead.start(["wanted"])
        ahead.start(["first"], guesses=True)
        _wait_for(lambda: len(rounds) == 2)
        ahead.start(["second"], guesses=True)
        _wait_for(lambda: len(rounds) == 3)
    numbers = dict(rounds)
    assert numbers["wanted"] == 0 and 0 < numbers["first"] < numbers["second"]
