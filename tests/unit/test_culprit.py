"""Delta debugging over package changes, against scripted outcome functions."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.culprit.ddmin import (
    CulpritResult,
    CulpritStatus,
    Subset,
    TrialRequest,
    TrialResult,
    isolate,
    next_probe,
    trial_result,
)
from harness.model.changes import PackageChange
from harness.model.outcome import Outcome

Oracle = Callable[[Subset], Outcome]

LETTERS = "abcdefghijklmnop"


def changes(count: int) -> tuple[PackageChange, ...]:
    return tuple(PackageChange.of(f"pkg-{LETTERS[i]}", "1.0", "2.0") for i in range(count))


def named(pool: tuple[PackageChange, ...], letters: str) -> frozenset[PackageChange]:
    return frozenset(change for change in pool if change.name[-1] in letters)


def fails_with(culprits: frozenset[PackageChange]) -> Oracle:
    """The failure appears exactly when every change in ``culprits`` is applied."""
    return lambda subset: Outcome.REPRODUCED if culprits <= subset else Outcome.PASSED


class Counting:
    """Wraps an oracle and counts how often each subset is asked for."""

    def __init__(self, oracle: Oracle) -> None:
        self.oracle = oracle
        self.calls: Counter[Subset] = Counter()

    def __call__(self, subset: Subset) -> Outcome:
        self.calls[subset] += 1
        return self.oracle(subset)


def run(
    pool: tuple[PackageChange, ...],
    oracle: Oracle,
    companions: Mapping[PackageChange, Iterable[PackageChange]] | None = None,
) -> tuple[CulpritResult, Counting]:
    counting = Counting(oracle)
    result = isolate(pool, counting, companions=companions)
    assert max(counting.calls.values(), default=0) <= 1, "a subset was probed twice"
    assert len(result.trials) == sum(counting.calls.values())
    return result, counting


@pytest.mark.parametrize(("outcome", "expected"), [
    (Outcome.REPRODUCED, TrialResult.FAIL),
    (Outcome.PASSED, TrialResult.PASS),
    (Outcome.UNRESOLVABLE, TrialResult.UNRESOLVED),
    (Outcome.DIFFERENT_ERROR, TrialResult.UNRESOLVED),
    (Outcome.INSTALL_FAILED, TrialResult.UNRESOLVED),
    (Outcome.TIMEOUT, TrialResult.UNRESOLVED),
    (Outcome.CRASHED, TrialResult.UNRESOLVED),
])  # fmt: skip
def test_outcomes_map_to_trial_results(outcome: Outcome, expected: TrialResult) -> None:
    assert trial_result(outcome) is expected


@pytest.mark.parametrize(
    ("count", "culprit"),
    [(3, "a"), (3, "b"), (3, "c"), (8, "a"), (8, "b"), (8, "e"), (8, "h"), (1, "a"), (2, "b")],
)
def test_single_culprit_is_found(count: int, culprit: str) -> None:
    pool = changes(count)
    result, _ = run(pool, fails_with(named(pool, culprit)))
    assert result.status is CulpritStatus.ISOLATED
    assert set(result.culprits) == named(pool, culprit)
    assert not result.is_interaction
    assert result.minimal
    assert set(result.not_involved) == set(pool) - named(pool, culprit)
    assert result.companions == ()
    # Both ends were checked first, in this order.
    assert [trial.applied for trial in result.trials[:2]] == [(), pool]


def test_only_b_among_three_costs_few_trials() -> None:
    pool = changes(3)
    result, _ = run(pool, fails_with(named(pool, "b")))
    requested = [{change.name[-1] for change in trial.applied} for trial in result.trials]
    assert requested == [set(), {"a", "b", "c"}, {"a"}, {"b", "c"}, {"b"}]


@pytest.mark.parametrize(("count", "together"), [(3, "ac"), (8, "ac"), (8, "bh"), (8, "adg"), (4, "abcd")])
def test_interaction_names_every_change_needed(count: int, together: str) -> None:
    pool = changes(count)
    result, _ = run(pool, fails_with(named(pool, together)))
    assert set(result.culprits) == named(pool, together)
    assert result.is_interaction
    assert result.minimal
    # The claim "none of them alone" rests on trials: each culprit set minus one change was probed and passed.
    outcomes = {frozenset(trial.applied): trial.outcome for trial in result.trials}
    for change in result.culprits:
        assert outcomes[frozenset(result.culprits) - {change}] is Outcome.PASSED


def needs(pool: tuple[PackageChange, ...], requirements: dict[str, str]) -> Callable[[Subset], bool]:
    """Whether a subset installs: a change listed on the left cannot go in without those on the right."""
    table = {change: named(pool, requirements[change.name[-1]]) for change in pool if change.name[-1] in requirements}
    return lambda subset: all(table[change] <= subset for change in subset if change in table)


def test_unresolvable_subset_drags_its_companion_along() -> None:
    pool = changes(3)
    installable = needs(pool, {"b": "a"})
    failing = fails_with(named(pool, "b"))

    def oracle(subset: Subset) -> Outcome:
        return failing(subset) if installable(subset) else Outcome.UNRESOLVABLE

    result, counting = run(pool, oracle, companions={change: named(pool, "a") for change in named(pool, "b")})
    assert set(result.culprits) == named(pool, "b")
    assert set(result.companions) == named(pool, "a")
    assert set(result.not_involved) == named(pool, "c")
    assert result.minimal
    assert {frozenset(trial.applied) for trial in result.unresolvable} >= {named(pool, "b")}
    dragged = {(frozenset(trial.requested), frozenset(trial.dragged)) for trial in result.with_companions}
    assert (named(pool, "b"), named(pool, "a")) in dragged
    assert any("dragged along" in note and "pkg-a" in note for note in result.notes)
    assert counting.calls[named(pool, "b")] == 1


def test_companions_learnt_from_the_resolver_give_the_same_answer() -> None:
    # Nothing is known up front: the resolver's message, read by ``needs``, names pkg-a for pkg-b.
    pool = changes(3)
    installable = needs(pool, {"b": "a"})
    failing = fails_with(named(pool, "b"))

    def oracle(subset: Subset) -> Outcome:
        return failing(subset) if installable(subset) else Outcome.UNRESOLVABLE

    asked: list[Subset] = []

    def resolver_names(subset: Subset) -> set[PackageChange]:
        asked.append(subset)
        assert oracle(subset) is Outcome.UNRESOLVABLE  # only asked about a subset the resolver rejected
        return set(named(pool, "a")) | set(subset)  # the rejected subset itself is not a companion

    counting = Counting(oracle)
    learnt = isolate(pool, counting, needs=resolver_names)
    told, _ = run(pool, oracle, companions={change: named(pool, "a") for change in named(pool, "b")})
    assert asked and named(pool, "b") in asked
    assert max(counting.calls.values()) == 1
    assert (learnt.culprits, learnt.companions, learnt.minimal) == (told.culprits, told.companions, told.minimal)
    assert set(learnt.companions) == named(pool, "a")
    dragged = {(frozenset(trial.requested), frozenset(trial.dragged)) for trial in learnt.with_companions}
    assert (named(pool, "b"), named(pool, "a")) in dragged


def test_a_companion_that_fails_alone_is_the_culprit() -> None:
    # a cannot be installed without b, and b alone is what breaks the case: the answer is b, not a.
    pool = changes(2)
    installable = needs(pool, {"a": "b"})
    failing = fails_with(named(pool, "b"))

    def oracle(subset: Subset) -> Outcome:
        return failing(subset) if installable(subset) else Outcome.UNRESOLVABLE

    result, _ = run(pool, oracle, companions={change: named(pool, "b") for change in named(pool, "a")})
    assert set(result.culprits) == named(pool, "b")
    assert result.companions == ()


def test_without_companions_an_unresolvable_subset_is_reported_not_assumed() -> None:
    pool = changes(3)
    installable = needs(pool, {"b": "a"})
    failing = fails_with(named(pool, "b"))

    def oracle(subset: Subset) -> Outcome:
        return failing(subset) if installable(subset) else Outcome.UNRESOLVABLE

    result, _ = run(pool, oracle)
    assert result.status is CulpritStatus.ISOLATED
    assert named(pool, "b") <= set(result.culprits)
    assert not result.minimal
    assert result.unresolvable
    assert any("could not check whether" in note for note in result.notes)


@pytest.mark.parametrize(
    ("old", "new", "status", "phrase"),
    [
        (Outcome.PASSED, Outcome.PASSED, CulpritStatus.NEW_PASSES, "passes too"),
        (Outcome.REPRODUCED, Outcome.REPRODUCED, CulpritStatus.OLD_FAILS, "already fails"),
        (Outcome.PASSED, Outcome.DIFFERENT_ERROR, CulpritStatus.UNTESTABLE, "DIFFERENT_ERROR"),
        (Outcome.PASSED, Outcome.UNRESOLVABLE, CulpritStatus.UNTESTABLE, "UNRESOLVABLE"),
        (Outcome.TIMEOUT, Outcome.REPRODUCED, CulpritStatus.UNTESTABLE, "old environment gave TIMEOUT"),
    ],
)
def test_ends_that_do_not_bracket_the_failure_stop_the_search(
    old: Outcome, new: Outcome, status: CulpritStatus, phrase: str
) -> None:
    pool = changes(4)
    result, counting = run(pool, lambda subset: old if not subset else new)
    assert result.status is status
    assert result.culprits == result.not_involved == ()
    assert any(phrase in note for note in result.notes)
    assert set(counting.calls) <= {frozenset(), frozenset(pool)}


def test_identical_environments_need_no_trial() -> None:
    result, counting = run((), fails_with(frozenset()))
    assert result.status is CulpritStatus.NO_CHANGES
    assert not counting.calls


def test_next_probe_walks_one_step_at_a_time() -> None:
    pool = changes(3)
    first = next_probe(pool, {})
    assert first == TrialRequest(frozenset())
    second = next_probe(pool, {frozenset(): Outcome.PASSED})
    assert second == TrialRequest(frozenset(pool))
    # Outcomes the search did not ask for are ignored, not counted as trials.
    unrelated = {frozenset(): Outcome.PASSED, frozenset(pool): Outcome.PASSED, named(pool, "c"): Outcome.REPRODUCED}
    done = next_probe(pool, unrelated)
    assert isinstance(done, CulpritResult)
    assert done.status is CulpritStatus.NEW_PASSES
    assert len(done.trials) == 2


def test_known_outcomes_are_not_probed_again() -> None:
    pool = changes(8)
    oracle = fails_with(named(pool, "f"))
    known = {frozenset(): Outcome.PASSED, frozenset(pool): Outcome.REPRODUCED, named(pool, "abcd"): Outcome.PASSED}
    counting = Counting(oracle)
    result = isolate(pool, counting, known=known)
    assert set(result.culprits) == named(pool, "f")
    assert not set(counting.calls) & set(known)


def test_next_probe_names_dragged_companions() -> None:
    pool = changes(2)
    companions = {change: named(pool, "a") for change in named(pool, "b")}
    known = {frozenset(): Outcome.PASSED, frozenset(pool): Outcome.REPRODUCED, named(pool, "a"): Outcome.PASSED}
    assert next_probe(pool, known, companions=companions) == TrialRequest(named(pool, "b"))
    known[named(pool, "b")] = Outcome.UNRESOLVABLE
    # {a, b} is the full set, already known: no probe needed, b fails with a dragged along.
    result = next_probe(pool, known, companions=companions)
    assert isinstance(result, CulpritResult)
    assert set(result.culprits) == named(pool, "b")
    assert set(result.companions) == named(pool, "a")


def test_everything_unresolvable_keeps_all_changes_and_says_so() -> None:
    pool = changes(3)

    def oracle(subset: Subset) -> Outcome:
        if not subset:
            return Outcome.PASSED
        return Outcome.REPRODUCED if len(subset) == 3 else Outcome.INSTALL_FAILED

    result, _ = run(pool, oracle)
    assert set(result.culprits) == set(pool)
    assert not result.minimal
    assert any("could not tell apart" in note for note in result.notes)


def test_invalid_input_is_rejected() -> None:
    pool = changes(2)
    with pytest.raises(ValueError, match="same package"):
        next_probe((*pool, PackageChange.of("pkg-a", "1.0", "3.0")), {})
    with pytest.raises(ValueError, match="outside the search"):
        next_probe(pool[:1], {}, companions={pool[0]: [pool[1]]})


def trial_bound(culprits: int, changes_count: int) -> int:
    """Two end checks, <= 2 trials per recursion level per culprit, one union check, <= k removal checks."""
    return 2 * culprits * math.ceil(math.log2(changes_count)) + culprits + 3


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=1, max_value=12).flatmap(
        lambda n: st.tuples(st.just(n), st.sets(st.integers(0, n - 1), min_size=1))
    )
)
def test_property_conjunctive_culprit_set_is_found_exactly(case: tuple[int, set[int]]) -> None:
    count, chosen = case
    pool = changes(count)
    culprits = frozenset(pool[i] for i in chosen)
    result, _ = run(pool, fails_with(culprits))
    assert result.status is CulpritStatus.ISOLATED
    assert frozenset(result.culprits) == culprits
    assert result.minimal
    assert result.is_interaction is (len(culprits) > 1)
    assert set(result.culprits) | set(result.not_involved) == set(pool)
    assert any(frozenset(t.applied) == culprits and t.result is TrialResult.FAIL for t in result.trials)
    assert len(result.trials) <= trial_bound(len(culprits), count)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=1, max_value=7).flatmap(
        lambda n: st.tuples(st.just(n), st.lists(st.sampled_from(list(Outcome)), min_size=2**n, max_size=2**n))
    )
)
def test_property_any_oracle_gives_a_tested_failing_set(case: tuple[int, list[Outcome]]) -> None:
    """Non-monotone, unresolvable, anything: the answer is a set that failed in a trial, and 'minimal' is earned."""
    count, table = case
    pool = changes(count)

    def oracle(subset: Subset) -> Outcome:
        if not subset:
            return Outcome.PASSED
        if len(subset) == count:
            return Outcome.REPRODUCED
        return table[sum(1 << pool.index(change) for change in subset)]

    result, _ = run(pool, oracle)
    assert result.status is CulpritStatus.ISOLATED
    outcomes = {frozenset(trial.applied): trial.outcome for trial in result.trials}
    assert outcomes[frozenset(result.culprits)] is Outcome.REPRODUCED
    if result.minimal:
        for change in result.culprits:
            assert outcomes[frozenset(result.culprits) - {change}] is Outcome.PASSED
    assert sorted({*result.culprits, *result.companions, *result.not_involved}, key=str) == sorted(pool, key=str)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=2, max_value=8).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.sets(st.integers(0, n - 1), min_size=1),
            st.dictionaries(st.integers(0, n - 1), st.sets(st.integers(0, n - 1), min_size=1), max_size=n),
        )
    )
)
def test_property_companions_give_a_minimal_installable_culprit(
    case: tuple[int, set[int], dict[int, set[int]]],
) -> None:
    count, chosen, requirement_table = case
    pool = changes(count)
    culprits = frozenset(pool[i] for i in chosen)
    requires = {pool[i]: frozenset(pool[j] for j in needed) - {pool[i]} for i, needed in requirement_table.items()}

    def closure(subset: frozenset[PackageChange]) -> frozenset[PackageChange]:
        closed = set(subset)
        while True:
            extra = {needed for change in closed for needed in requires.get(change, ())} - closed
            if not extra:
                return frozenset(closed)
            closed |= extra

    def oracle(subset: Subset) -> Outcome:
        if closure(subset) != subset:
            return Outcome.UNRESOLVABLE
        return Outcome.REPRODUCED if culprits <= subset else Outcome.PASSED

    result, _ = run(pool, oracle, companions=requires)
    assert result.status is CulpritStatus.ISOLATED
    found = frozenset(result.culprits)
    assert culprits <= closure(found)
    assert set(result.companions) == closure(found) - found
    assert result.minimal
    for change in found:
        assert not culprits <= closure(found - {change})
