"""Probing ahead with several jobs: the search sees the same probes in the same order, and the work is bounded."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from harness.bisection.driver import Answer, lookahead, run_search
from harness.bisection.search import BisectVerdict, Direction, TransitionSearch
from harness.model.outcome import Outcome

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
    assert len(together.calls) <= jobs * max(1, len(one.probes))
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
