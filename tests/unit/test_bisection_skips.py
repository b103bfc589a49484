"""The search against histories with runs of unusable releases: probe bound, honesty, and a true "at most N left"."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.bisection.brackets import Shape, _worst, worst_probes, worst_within
from harness.bisection.search import BisectVerdict, Direction, SearchResult, SearchStatus, TransitionSearch

GOOD, BAD, SKIP = BisectVerdict.GOOD, BisectVerdict.BAD, BisectVerdict.SKIP


def _lg(n: int) -> int:
    return math.ceil(math.log2(n)) if n > 1 else 0


@st.composite
def histories_with_runs(draw: st.DrawFn) -> tuple[int, int, frozenset[int]]:
    """(n, first_after, skipped): a monotone history of up to 400 items with a few runs of unusable ones,
    some of them hundreds long."""
    n = draw(st.integers(min_value=2, max_value=400))
    first_after = draw(st.integers(min_value=0, max_value=n))
    skipped: set[int] = set()
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        start = draw(st.integers(min_value=0, max_value=n - 1))
        length = draw(st.integers(min_value=1, max_value=n - start))
        skipped |= set(range(start, start + length))
    return n, first_after, frozenset(skipped)


def _runs(skipped: frozenset[int], within: range) -> int:
    """Distinct runs of consecutive unusable items inside ``within``."""
    inside = [i for i in within if i in skipped]
    return sum(1 for i in inside if i - 1 not in skipped or i - 1 not in within)


def _answers(direction: Direction, n: int, first_after: int, skipped: frozenset[int]) -> dict[int, BisectVerdict]:
    return {i: SKIP if i in skipped else (direction.before if i < first_after else direction.after) for i in range(n)}


def _drive(search: TransitionSearch[int], answers: Mapping[int, BisectVerdict]) -> tuple[SearchResult[int], list[int]]:
    """Drive the search, checking at every step that the probes still to come never exceed max_remaining."""
    bounds: list[int] = []
    probed: list[int] = []
    while (item := search.next_probe()) is not None:
        bounds.append(search.max_remaining())
        probed.append(item)
        search = search.fold(item, answers[item])
    assert search.max_remaining() == 0
    for position, bound in enumerate(bounds):
        assert len(probed) - position <= bound, (position, bound, len(probed))
    assert len(probed) == len(set(probed))
    return search.result(), probed


def _check(result: SearchResult[int], answers: Mapping[int, BisectVerdict], probed: list[int]) -> None:
    """Never contradicts an observed verdict, and names every candidate it did not rule out."""
    direction = result.direction
    if result.status in (SearchStatus.FOUND, SearchStatus.AMBIGUOUS):
        assert result.before is not None and result.after is not None
        assert answers[result.before] is direction.before and answers[result.after] is direction.after
        assert all(i <= result.before for i in probed if answers[i] is direction.before)
        assert all(i >= result.after for i in probed if answers[i] is direction.after)
    if result.status is SearchStatus.AMBIGUOUS:
        assert set(result.unusable) | set(result.untried) == set(result.candidates[:-1])
        assert all(i in probed and answers[i] is SKIP for i in result.unusable)
        assert not set(result.untried) & set(probed)


@settings(max_examples=300, deadline=None)
@given(histories_with_runs(), st.sampled_from(list(Direction)))
def test_pair_search_over_runs_of_skips(drawn: tuple[int, int, frozenset[int]], direction: Direction) -> None:
    n, first_after, skipped = drawn
    first_after = min(max(first_after, 1), n - 1)
    skipped = skipped - {0, n - 1}
    answers = _answers(direction, n, first_after, skipped)
    result, probed = _drive(TransitionSearch.start(range(n), direction, low=0, high=n - 1), answers)
    _check(result, answers, probed)
    if result.status is SearchStatus.FOUND:
        assert result.after == first_after
    runs = _runs(skipped, range(1, n - 1))
    # The documented bound: the two anchors, plain bisection, and 2 * ceil(log2 N) + 3 per run of skips.
    assert len(probed) <= 2 + _lg(n) + 1 + runs * (2 * _lg(n) + 3)


@settings(max_examples=300, deadline=None)
@given(histories_with_runs(), st.sampled_from(list(Direction)), st.booleans(), st.data())
def test_outward_search_over_runs_of_skips(
    drawn: tuple[int, int, frozenset[int]], direction: Direction, newest_first: bool, data: st.DataObject
) -> None:
    n, first_after, skipped = drawn
    backwards = data.draw(st.booleans())
    if backwards:
        anchor = data.draw(st.integers(min_value=min(first_after, n - 1), max_value=n - 1))
    else:
        anchor = data.draw(st.integers(min_value=0, max_value=max(first_after - 1, 0)))
    skipped = skipped - {anchor}
    answers = _answers(direction, n, first_after, skipped)
    search = TransitionSearch.start(
        range(n),
        direction,
        low=None if backwards else anchor,
        high=anchor if backwards else None,
        newest_first=newest_first,
    )
    result, probed = _drive(search, answers)
    _check(result, answers, probed)
    runs = _runs(skipped, range(n))
    # The anchor, the strides (each offset and one neighbour), the newest item, then the bracket's bound.
    assert len(probed) <= 1 + 2 * (_lg(n) + 1) + 1 + _lg(n) + 1 + runs * (2 * _lg(n) + 3)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list(BisectVerdict)), min_size=2, max_size=60), st.sampled_from(list(Direction)))
def test_max_remaining_is_a_true_bound_for_any_answers(verdicts: list[BisectVerdict], direction: Direction) -> None:
    """Even for histories that are not monotone at all, no search makes more probes than it announced."""
    answers = dict(enumerate(verdicts))
    n = len(verdicts)
    for search in (
        TransitionSearch.start(range(n), direction, low=0, high=n - 1),
        TransitionSearch.start(range(n), direction, high=n - 1),
        TransitionSearch.start(range(n), direction, low=0, newest_first=True),
        TransitionSearch.start(range(n), direction, low=n // 2),
    ):
        _drive(search, answers)


def test_a_run_of_230_unusable_releases_costs_a_few_probes_per_edge() -> None:
    # The x-transformers history of the issue: 1.12.0 to 1.42.11 (here 40..269) cannot be installed, the bad
    # window starts inside that run, and the case was recorded well above it.
    n, first_bad = 320, 200
    skipped = frozenset(range(40, 270))
    answers = _answers(Direction.REGRESSION, n, first_bad, skipped)
    result, probed = _drive(TransitionSearch.start(range(n), Direction.REGRESSION, high=300), answers)
    assert result.status is SearchStatus.AMBIGUOUS
    assert (result.before, result.after) == (39, 270)
    assert len(result.candidates) == 231
    assert len(result.unusable) + len(result.untried) == 230
    assert len(probed) <= 25
    assert result.message.startswith("first bad is one of 231 releases (40 .. 270); ")


@pytest.mark.parametrize("size", range(0, 41))
def test_worst_within_bounds_every_shape(size: int) -> None:
    exact = [_worst(Shape.PLAIN, size, 0)]
    exact += [_worst(Shape.ONE_SKIP, below, size - 1 - below) for below in range(size)]
    exact += [_worst(Shape.RUN, below, size - 2 - below) for below in range(size - 1)]
    assert max(exact) <= worst_within(size)
    assert worst_within(size) >= worst_within(size - 1) if size else worst_within(0) == 0


def test_worst_probes_of_a_finished_bracket_is_zero() -> None:
    assert worst_probes(3, 4, ()) == 0
    assert worst_probes(3, 6, (4, 5)) == 0
