"""Planned guesses: answers fold into the walk as they arrive, a search that runs next is walked beside the
current one, declined guesses cost no place, and a bisection's re-probes share the searches' threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from harness.bisection.driver import lookahead
from harness.bisection.releases import ReleaseProbe, run_bisection
from harness.bisection.search import BisectVerdict, Direction, TransitionSearch
from harness.model.outcome import Outcome, Repeats
from harness.probing.lookahead import Lookahead, NotProbedAhead, guess_round
from tests.unit.test_lookahead import OUTCOMES

RELEASES = [Version(f"1.{i}") for i in range(32)]
GOOD, BAD = BisectVerdict.GOOD, BisectVerdict.BAD


def bracket() -> TransitionSearch[Version]:
    known = {RELEASES[0]: GOOD, RELEASES[-1]: BAD}
    return TransitionSearch.start(RELEASES, Direction.REGRESSION, low=RELEASES[0], high=RELEASES[-1], known=known)


def test_a_known_verdict_is_followed_one_way_and_costs_no_width() -> None:
    search = bracket()
    now = search.next_probe()
    assert now is not None
    after_bad = search.fold(now, BAD)
    deeper = after_bad.next_probe()
    assert deeper is not None
    # Without answers the walk lists both branches; with the wanted item known BAD, only that branch, and
    # reaches a level further in the same width.
    blind = lookahead(search, 3)
    informed = lookahead(search, 3, known={now: BAD}.get)
    assert informed[0] == now
    assert informed[1:] == lookahead(after_bad, 2)
    assert informed != blind and search.fold(now, GOOD).next_probe() not in informed
    # A known guess further down is folded in too, and not listed again.
    chained = lookahead(search, 3, known={now: BAD, deeper: GOOD}.get)
    assert deeper not in chained[1:] and chained[1:] == lookahead(after_bad.fold(deeper, GOOD), 2)


def test_items_waiting_for_their_worker_are_listed_without_using_the_width() -> None:
    search = bracket()
    plain = lookahead(search, 4)
    waiting = set(plain[1:3])
    wider = lookahead(search, 4, waiting=waiting.__contains__)
    assert wider[: len(plain)] == plain
    assert len([item for item in wider if item not in waiting]) == 4


def test_the_following_search_is_walked_beside_this_one() -> None:
    anchor = RELEASES[10]
    regression = TransitionSearch.start(RELEASES, Direction.REGRESSION, high=anchor)
    fix = TransitionSearch.start(RELEASES, Direction.FIX, low=anchor, newest_first=True)
    alone = lookahead(regression, 8)
    together = lookahead(regression, 8, following=fix)
    assert together[0] == anchor  # the item wanted now comes first either way
    assert RELEASES[-1] in together and RELEASES[-1] not in alone  # the fix search's newest-first probe
    assert len(together) == 8 and len(set(together)) == 8


class Script:
    """A probe whose answers (and declines, as guesses) are scripted; it records what it was asked."""

    def __init__(self, declines: Sequence[str] = (), gate: threading.Event | None = None) -> None:
        self.declines = set(declines)
        self.gate = gate
        self.asked: list[tuple[str, bool]] = []
        self._lock = threading.Lock()

    def __call__(self, item: str) -> str:
        guessing = bool(guess_round())
        with self._lock:
            self.asked.append((item, guessing))
        if guessing and item in self.declines:
            raise NotProbedAhead
        if item == "now" and self.gate is not None:
            assert self.gate.wait(5), "the wanted probe was never let through"
        return item.upper()


def test_an_answered_guess_makes_the_plan_guess_deeper_in_the_same_round() -> None:
    gate = threading.Event()
    script = Script(gate=gate)

    def plan(at_hand: Callable[[str], str | None], waiting: Callable[[str], bool]) -> list[str]:
        # "b" is worth guessing only once "a" has answered A (a verdict settled the branch).
        return ["now", "a", "b"] if at_hand("a") == "A" else ["now", "a"]

    with Lookahead(script, 2) as ahead:
        ahead.start_planned(plan, budget=5)
        _wait_for(lambda: ("b", True) in script.asked)  # while "now" is still running
        gate.set()
        assert ahead.answer("now") == "NOW" and ahead.answer("b") == "B"
    assert script.asked.count(("b", True)) == 1


def test_declined_guesses_give_their_place_back_but_running_ones_keep_to_the_budget() -> None:
    gate = threading.Event()
    script = Script(declines=["d1", "d2", "d3"], gate=gate)
    items = ["now", "d1", "d2", "d3", "x", "y"]
    with Lookahead(script, 2) as ahead:
        ahead.start_planned(lambda at_hand, waiting: items, budget=1)
        _wait_for(lambda: ("x", True) in script.asked)
        time.sleep(0.05)
        gate.set()
        ahead.answer("now")
    guessed = [item for item, guessing in script.asked if guessing]
    assert guessed == ["d1", "d2", "d3", "x"]  # three declines, then the one guess the budget allows; no "y"


def test_queued_items_run_before_guesses_and_as_wanted() -> None:
    gate, first_guess = threading.Event(), threading.Event()
    asked: list[tuple[str, bool]] = []

    def probe(item: str) -> str:
        asked.append((item, bool(guess_round())))
        if item == "later" and guess_round():
            raise NotProbedAhead  # never reached: a queued item is probed as wanted
        waits = {"now": gate, "g1": first_guess}
        if item in waits:
            assert waits[item].wait(5), f"{item} was never let through"
        return item.upper()

    with Lookahead(probe, 2) as ahead:
        ahead.start(["now"])
        ahead.start(["g1", "g2"], guesses=True)  # g1 takes the second thread, g2 waits for one
        _wait_for(lambda: ("g1", True) in asked)
        ahead.queue(["later"])  # queued after g2 was listed
        first_guess.set()
        _wait_for(lambda: ("later", False) in asked)
        gate.set()
        assert ahead.answer("later") == "LATER" and ahead.answer("now") == "NOW"
    assert asked.index(("later", False)) < asked.index(("g2", True))


def _wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_a_bisection_at_two_jobs_reports_what_it_does_at_one(data: st.DataObject) -> None:
    count = data.draw(st.integers(min_value=3, max_value=40))
    releases = [Version(f"2.{i}") for i in range(count)]
    first_bad = data.draw(st.integers(min_value=1, max_value=count - 1))
    fixed = data.draw(st.integers(min_value=first_bad + 1, max_value=count))
    outcomes = {
        release: Outcome.REPRODUCED if first_bad <= i < fixed else Outcome.PASSED for i, release in enumerate(releases)
    }
    for i in data.draw(st.lists(st.integers(min_value=0, max_value=count - 1), max_size=count // 3)):
        outcomes[releases[i]] = data.draw(st.sampled_from(OUTCOMES))
    bad = releases[first_bad]
    outcomes[bad] = Outcome.REPRODUCED
    calls: list[tuple[Version, bool]] = []
    lock = threading.Lock()

    def probe(version: Version, runs: int = 1) -> ReleaseProbe:
        with lock:
            calls.append((version, runs > 1))
        outcome = outcomes[version]
        repeats = Repeats(runs, runs if outcome is Outcome.REPRODUCED else 0) if outcome in _RUNS else None
        return ReleaseProbe(version, outcome, repeats=repeats)

    def report(jobs: int) -> object:
        found = run_bisection(
            case_id="c",
            package="p",
            releases=releases,
            probe=probe,
            bad=bad,
            confirm=lambda version: probe(version, 3),
            confirm_runs=3,
            jobs=jobs,
        )
        return (found.regression, found.fix, found.confirmation, [step.probe.version for step in found.steps])

    alone = report(1)
    confirmations = [version for version, confirming in calls if confirming]
    calls.clear()
    assert report(2) == alone
    assert sorted(version for version, confirming in calls if confirming) == sorted(confirmations)


_RUNS = (Outcome.REPRODUCED, Outcome.PASSED)
