"""Delta debugging with trials run ahead: the same answer from the same trials, with bounded extra work."""

from __future__ import annotations

import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.culprit.ddmin import Subset, TrialRequest, isolate, lookahead, next_probe
from harness.model.changes import PackageChange
from harness.model.outcome import Outcome
from harness.probing.lookahead import Lookahead

LETTERS = "abcdefghij"


def pool_of(count: int) -> tuple[PackageChange, ...]:
    return tuple(PackageChange.of(f"pkg-{LETTERS[i]}", "1.0", "2.0") for i in range(count))


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=8), st.data(), st.integers(min_value=2, max_value=4))
def test_running_ahead_changes_nothing_the_search_sees(count: int, data: st.DataObject, jobs: int) -> None:
    pool = pool_of(count)
    culprits = frozenset(data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=min(3, count), unique=True)))

    def oracle(subset: Subset) -> Outcome:
        return Outcome.REPRODUCED if culprits <= subset else Outcome.PASSED

    asked_alone: list[Subset] = []
    alone = isolate(pool, lambda s: asked_alone.append(s) or oracle(s))  # type: ignore[func-returns-value]

    started: list[Subset] = []
    lock = threading.Lock()

    def probe(subset: Subset) -> Outcome:
        with lock:
            started.append(subset)
        return oracle(subset)

    asked_together: list[Subset] = []
    with Lookahead(probe, jobs) as ahead:

        def test(subset: Subset) -> Outcome:
            asked_together.append(subset)
            return ahead.answer(subset)

        together = isolate(pool, test, ahead=ahead.start, width=jobs)
    assert together == alone
    assert asked_together == asked_alone
    assert len(set(started)) == len(started), "a trial ran twice"
    assert len(started) <= jobs * max(1, len(asked_alone))


def test_lookahead_supposes_both_outcomes_breadth_first() -> None:
    pool = pool_of(4)
    now = next_probe(pool, {})
    assert isinstance(now, TrialRequest)
    assert lookahead(pool, {}, width=1) == [now.applied]
    after = [next_probe(pool, {now.applied: outcome}) for outcome in (Outcome.REPRODUCED, Outcome.PASSED)]
    expected = [now.applied] + [step.applied for step in after if isinstance(step, TrialRequest)]
    assert lookahead(pool, {}, width=len(expected)) == expected
    wide = lookahead(pool, {}, width=6)
    assert wide[: len(expected)] == expected and len(set(wide)) == len(wide)
