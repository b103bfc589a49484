"""Stable midpoints: a bracket without skips probes an aligned item near its middle, at no cost in probes."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.bisection.brackets import _by_alignment, _worst_after, choose, worst_probes
from harness.bisection.search import BisectVerdict, Direction, TransitionSearch

GOOD, BAD, SKIP = BisectVerdict.GOOD, BisectVerdict.BAD, BisectVerdict.SKIP


def _alignment(position: int) -> int:
    """The largest power of two dividing ``position`` (0 counts as divisible by any)."""
    return position & -position if position else 1 << 64


# --- the choice -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lo", "hi"), [(0, 100), (0, 98), (2, 103), (3, 101), (14, 98), (24, 113), (5, 104)])
def test_nearby_brackets_probe_the_same_aligned_item(lo: int, hi: int) -> None:
    # Each of these midpoints is another item; all of them meet at 64.
    assert choose(lo, hi, ()) == 64


@pytest.mark.parametrize(
    ("lo", "hi", "expected", "room"),
    [
        # 96 items is the most a 14-probe worst case holds: only 51..53 keep it, so 52 it is.
        (3, 100, 52, range(51, 54)),
        (0, 97, 48, range(48, 51)),
        # Without skips, 9 places of the step are settled in 3 or 4 probes only from 4 or 5.
        (0, 9, 4, range(4, 6)),
    ],
)
def test_a_bracket_without_room_keeps_near_its_midpoint(lo: int, hi: int, expected: int, room: range) -> None:
    admissible = [p for p in range(lo + 1, hi) if _worst_after(lo, hi, (), p) <= worst_probes(lo, hi, ())]
    assert expected in room and set(room) <= set(admissible)
    assert choose(lo, hi, ()) == expected


def test_a_slice_passes_its_start_as_origin_and_probes_the_same_items() -> None:
    whole = choose(0, 100, ())
    assert whole is not None
    for start in (5, 17, 40):
        assert choose(-start, 100 - start, (), origin=start) == whole - start


@pytest.mark.parametrize(
    ("lo", "hi", "skips", "expected"),
    [
        (0, 100, (50,), 51),  # one skip: its upper neighbour, as before
        (0, 100, (10,), 50),
        (0, 100, (40, 41, 42), 71),  # a run: the midpoint of the larger edge gap
    ],
)
def test_brackets_with_skips_keep_their_choice(lo: int, hi: int, skips: tuple[int, ...], expected: int) -> None:
    assert choose(lo, hi, skips) == expected
    assert choose(lo, hi, skips, origin=7) == expected


def test_candidates_come_by_alignment_then_nearness_to_the_centre_then_the_upper() -> None:
    assert list(_by_alignment(-3, 9)) == [0, 8, 4, 2, 6, -2, 3, 5, 1, 7, -1, 9, -3]


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-300, max_value=300), st.integers(min_value=0, max_value=300))
def test_every_candidate_comes_once_in_order_of_alignment(first: int, width: int) -> None:
    order = list(_by_alignment(first, first + width))
    assert sorted(order) == list(range(first, first + width + 1))
    assert [_alignment(p) for p in order] == sorted((_alignment(p) for p in order), reverse=True)


def test_a_bracket_of_a_hundred_thousand_items_is_chosen_at_once() -> None:
    probe = choose(3, 100_003, ())
    assert probe is not None and _alignment(probe) >= 1 << 14


# --- no probe more --------------------------------------------------------------------------------------


@functools.cache
def _midpoint_total(places: int) -> int:
    """Probes plain midpoint bisection makes over ``places`` places of the step, summed over every place."""
    if places <= 1:
        return 0
    below = places // 2
    return places + _midpoint_total(below) + _midpoint_total(places - below)


def _drive(search: TransitionSearch[int], answers: Mapping[int, BisectVerdict]) -> list[int]:
    """The probes of a search, checking at every step that the probes still to come never exceed max_remaining."""
    probed: list[int] = []
    bounds: list[int] = []
    while (item := search.next_probe()) is not None:
        bounds.append(search.max_remaining())
        probed.append(item)
        search = search.fold(item, answers[item])
    for position, bound in enumerate(bounds):
        assert len(probed) - position <= bound, (position, bound, len(probed))
    return probed


@functools.cache
def _adversary(lo: int, hi: int, skips: tuple[int, ...]) -> int:
    """The most probes the choices of ``choose`` can take from this bracket, whatever each probe answers."""
    probe = choose(lo, hi, skips)
    if probe is None:
        return 0
    before_side = _adversary(probe, hi, tuple(s for s in skips if s > probe))
    after_side = _adversary(lo, probe, tuple(s for s in skips if s < probe))
    return 1 + max(before_side, after_side, _adversary(lo, hi, tuple(sorted((*skips, probe)))))


@pytest.mark.parametrize("lo", range(-1, 17))
def test_every_answer_sequence_stays_within_worst_probes(lo: int) -> None:
    # The bound is worked out for plain midpoints; this plays every answer against the stable ones.
    for inside in range(41):
        assert _adversary(lo, lo + inside + 1, ()) <= worst_probes(lo, lo + inside + 1, ()), inside


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=-1, max_value=5000),
    st.integers(min_value=1, max_value=5000),
    st.integers(min_value=-100, max_value=100),
)
def test_each_choice_keeps_the_midpoints_worst_case(lo: int, inside: int, origin: int) -> None:
    hi = lo + inside + 1
    probe = choose(lo, hi, (), origin=origin)
    assert probe is not None and lo < probe < hi
    assert _worst_after(lo, hi, (), probe) <= worst_probes(lo, hi, ())
    # Without unusable items: fewer than 2 ** (probes - 1) items left either side, as from the midpoint.
    half = 1 << (inside.bit_length() - 1)
    assert max(probe - lo - 1, hi - probe - 1) < half


@st.composite
def brackets_and_tables(draw: st.DrawFn) -> tuple[int, int, dict[int, BisectVerdict]]:
    """(low, high, answers): anchors anywhere in a list of up to 300, and verdicts either monotone with some
    unusable items or anything at all."""
    n = draw(st.integers(min_value=2, max_value=300))
    low = draw(st.integers(min_value=0, max_value=n - 2))
    high = draw(st.integers(min_value=low + 1, max_value=n - 1))
    if draw(st.booleans()):
        verdicts = draw(st.lists(st.sampled_from([GOOD, BAD, SKIP]), min_size=n, max_size=n))
        return low, high, dict(enumerate(verdicts))
    step = draw(st.integers(min_value=low + 1, max_value=high))
    skipped = draw(st.sets(st.integers(min_value=low, max_value=high), max_size=6))
    answers = {i: SKIP if i in skipped else (GOOD if i < step else BAD) for i in range(n)}
    answers[low], answers[high] = GOOD, BAD
    return low, high, answers


@settings(max_examples=300, deadline=None)
@given(brackets_and_tables())
def test_never_more_probes_than_the_midpoints_worst_case(drawn: tuple[int, int, dict[int, BisectVerdict]]) -> None:
    low, high, answers = drawn
    search = TransitionSearch.start(range(len(answers)), Direction.REGRESSION, low=low, high=high)
    probed = _drive(search, answers)
    anchors = 2 if all(answers[a] is expected for a, expected in ((high, BAD), (low, GOOD))) else len(probed)
    assert len(probed) - anchors <= worst_probes(low, high, ())
    if SKIP not in {answers[i] for i in probed}:
        # Without unusable items, no more than plain bisection: ceil(log2 (items + 1)).
        assert len(probed) - anchors <= (high - low - 1).bit_length()


@pytest.mark.parametrize("low", [0, 3, 7, 21, 64, 100])
def test_without_skips_the_probes_summed_over_every_step_are_the_midpoints(low: int) -> None:
    high = 250
    total = 0
    for step in range(low + 1, high + 1):
        answers = {i: GOOD if i < step else BAD for i in range(high + 1)}
        known = {low: GOOD, high: BAD}
        search = TransitionSearch.start(range(high + 1), Direction.REGRESSION, low=low, high=high, known=known)
        total += len(_drive(search, answers))
    assert total == _midpoint_total(high - low)


# --- reruns reuse the first run's probes ------------------------------------------------------------------

HISTORY = 200


def _stable_probes(low: int, step: int) -> list[int]:
    answers = {i: GOOD if i < step else BAD for i in range(HISTORY)}
    return _drive(TransitionSearch.start(range(HISTORY), Direction.REGRESSION, low=low, high=HISTORY - 1), answers)


def _midpoint_probes(low: int, step: int) -> list[int]:
    """What the search probed before stable midpoints: the bad anchor, the good one, then plain midpoints."""
    probes, lo, hi = [HISTORY - 1, low], low, HISTORY - 1
    while hi - lo > 1:
        middle = (lo + hi) // 2
        probes.append(middle)
        lo, hi = (middle, hi) if middle < step else (lo, middle)
    return probes


def _reused(probes_of: Callable[[int, int], list[int]], steps: range) -> tuple[int, int]:
    """(probes of the reruns that the first run made too, probes of the reruns), over every step and rerun: a
    first run from good 0, reruns from good 7 and 21, all against bad 199."""
    reused = total = 0
    for step in steps:
        first = set(probes_of(0, step))
        for low in (7, 21):
            again = probes_of(low, step)
            reused += sum(1 for item in again if item in first)
            total += len(again)
    return reused, total


def test_a_rerun_with_a_later_good_release_reuses_most_of_the_first_runs_probes() -> None:
    steps = range(22, HISTORY)
    stable, stable_total = _reused(_stable_probes, steps)
    midpoint, midpoint_total = _reused(_midpoint_probes, steps)
    # Plain midpoints meet the first run's probes mostly in the last few, near the step.
    assert stable / stable_total >= 0.6
    assert stable >= 1.5 * midpoint
    assert stable / stable_total >= 1.5 * midpoint / midpoint_total
