"""The pure bisection core, driven against scripted outcome tables by the one driver loop."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from harness.bisection.driver import Answer, run_search
from harness.bisection.search import (
    BisectVerdict,
    Direction,
    SearchResult,
    SearchStatus,
    TransitionSearch,
    VerdictPolicy,
)
from harness.model.outcome import Outcome

GOOD, BAD, SKIP = BisectVerdict.GOOD, BisectVerdict.BAD, BisectVerdict.SKIP
R, P = Outcome.REPRODUCED, Outcome.PASSED
DEFAULT_POLICY = VerdictPolicy()
RELEASES = tuple(Version(f"1.{minor}") for minor in range(10))


def v(text: str) -> Version:
    return Version(text)


def history(pattern: str, releases: Sequence[Version] = RELEASES) -> dict[Version, Outcome]:
    """One letter per release: P passed, R reproduced, I install failed, U unresolvable, D different error."""
    letters = {
        "P": Outcome.PASSED,
        "R": Outcome.REPRODUCED,
        "I": Outcome.INSTALL_FAILED,
        "U": Outcome.UNRESOLVABLE,
        "D": Outcome.DIFFERENT_ERROR,
        "T": Outcome.TIMEOUT,
        "C": Outcome.CRASHED,
    }
    assert len(pattern) == len(releases)
    return {release: letters[letter] for release, letter in zip(releases, pattern, strict=True)}


def drive(
    search: TransitionSearch[Version],
    outcomes: Mapping[Version, Outcome],
    policy: VerdictPolicy = DEFAULT_POLICY,
) -> tuple[SearchResult[Version], list[Version]]:
    run = run_search(search, lambda release: Answer(outcomes[release]), policy=policy)
    return run.result, [probed.event.item for probed in run.probes]


def regression(
    *, low: Version | None = None, high: Version | None = None, known: Mapping[Version, BisectVerdict] | None = None
) -> TransitionSearch[Version]:
    return TransitionSearch.start(RELEASES, Direction.REGRESSION, low=low, high=high, known=known)


def fix(*, low: Version) -> TransitionSearch[Version]:
    return TransitionSearch.start(RELEASES, Direction.FIX, low=low, newest_first=True)


# --- verdicts ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "default", "different_error_bad"),
    [
        (Outcome.REPRODUCED, BAD, BAD),
        (Outcome.PASSED, GOOD, GOOD),
        (Outcome.DIFFERENT_ERROR, SKIP, BAD),
        (Outcome.UNRESOLVABLE, SKIP, SKIP),
        (Outcome.INSTALL_FAILED, SKIP, SKIP),
        (Outcome.TIMEOUT, SKIP, SKIP),
        (Outcome.CRASHED, SKIP, SKIP),
    ],
)
def test_verdict_policy(outcome: Outcome, default: BisectVerdict, different_error_bad: BisectVerdict) -> None:
    assert VerdictPolicy().verdict(outcome) is default
    assert VerdictPolicy(different_error_is_bad=True).verdict(outcome) is different_error_bad


def test_every_outcome_has_a_verdict() -> None:
    assert {VerdictPolicy().verdict(outcome) for outcome in Outcome} == set(BisectVerdict)


@pytest.mark.parametrize(
    ("direction", "before", "after"),
    [(Direction.REGRESSION, GOOD, BAD), (Direction.FIX, BAD, GOOD)],
)
def test_direction_sides(direction: Direction, before: BisectVerdict, after: BisectVerdict) -> None:
    assert (direction.before, direction.after) == (before, after)


# --- between a known pair ---------------------------------------------------------------------------------


@pytest.mark.parametrize("first_bad", range(1, 10))
def test_pair_finds_every_boundary(first_bad: int) -> None:
    pattern = "P" * first_bad + "R" * (10 - first_bad)
    result, probed = drive(regression(low=v("1.0"), high=v("1.9")), history(pattern))
    assert result.status is SearchStatus.FOUND
    assert result.boundary == (RELEASES[first_bad - 1], RELEASES[first_bad])
    assert (result.last_good, result.first_bad) == result.boundary
    assert result.last_bad is None and result.first_fixed is None
    # Two anchor confirmations plus ceil(log2(9)) = 4 at most for the 9 possible positions.
    assert len(probed) <= 2 + 4
    assert len(probed) == len(set(probed))


def test_pair_probes_bad_anchor_first_then_midpoints() -> None:
    result, probed = drive(regression(low=v("1.0"), high=v("1.9")), history("PPPRRRRRRR"))
    assert probed == [v("1.9"), v("1.0"), v("1.4"), v("1.2"), v("1.3")]
    assert result.boundary == (v("1.2"), v("1.3"))
    assert result.message == "first bad 1.3, last good 1.2"


def test_skipped_midpoint_probes_nearest_neighbour_upper_first() -> None:
    result, probed = drive(regression(low=v("1.0"), high=v("1.9")), history("PPPPPIRRRR"))
    # 1.4 is the midpoint and passes; 1.6 next (midpoint of 1.4..1.9) reproduces; 1.5 fails to install.
    assert probed == [v("1.9"), v("1.0"), v("1.4"), v("1.6"), v("1.5")]
    assert result.status is SearchStatus.AMBIGUOUS


def test_skip_at_midpoint_moves_to_upper_neighbour() -> None:
    _, probed = drive(regression(low=v("1.0"), high=v("1.9")), history("PPPPIPRRRR"))
    assert probed[2:4] == [v("1.4"), v("1.5")]


@pytest.mark.parametrize(
    ("pattern", "candidates", "before", "after"),
    [
        # The release just before the first bad one cannot be used: the step is at 1.4 or 1.5.
        ("PPPPURRRRR", ("1.4", "1.5"), "1.3", "1.5"),
        ("PPPPIRRRRR", ("1.4", "1.5"), "1.3", "1.5"),
        # Two in a row.
        ("PPPTCRRRRR", ("1.3", "1.4", "1.5"), "1.2", "1.5"),
        ("PPPPPIRRRR", ("1.5", "1.6"), "1.4", "1.6"),
    ],
)
def test_skips_next_to_the_boundary_list_candidates(
    pattern: str, candidates: tuple[str, ...], before: str, after: str
) -> None:
    result, _ = drive(regression(low=v("1.0"), high=v("1.9")), history(pattern))
    assert result.status is SearchStatus.AMBIGUOUS
    assert result.candidates == tuple(map(Version, candidates))
    assert (result.before, result.after) == (v(before), v(after))
    assert result.boundary is None
    assert "could not be probed" in result.message


def test_everything_between_skipped_lists_every_candidate() -> None:
    result, probed = drive(regression(low=v("1.0"), high=v("1.9")), history("PIIIIIIIIR"))
    assert result.candidates == RELEASES[1:]
    assert len(probed) == 10


def test_different_error_is_skipped_by_default_and_bad_by_policy() -> None:
    outcomes = history("PPPDDRRRRR")
    default, _ = drive(regression(low=v("1.0"), high=v("1.9")), outcomes)
    assert default.status is SearchStatus.AMBIGUOUS
    assert default.candidates == (v("1.3"), v("1.4"), v("1.5"))
    strict, _ = drive(regression(low=v("1.0"), high=v("1.9")), outcomes, VerdictPolicy(different_error_is_bad=True))
    assert strict.boundary == (v("1.2"), v("1.3"))


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("PPPPPPPPPP", "1.9 was given as bad but is good"),
        ("PPPPPPPPPI", "1.9 was given as bad but could not be probed"),
        ("PPPPPPPPPD", "1.9 was given as bad but could not be probed"),
    ],
)
def test_invalid_anchor(pattern: str, expected: str) -> None:
    result, probed = drive(regression(low=v("1.0"), high=v("1.9")), history(pattern))
    assert result.status is SearchStatus.INVALID_ANCHOR
    assert result.message == expected
    assert (result.before, result.after, result.anchor) == (None, None, v("1.9"))
    assert probed == [v("1.9")]


def test_good_anchor_that_reproduces_is_invalid() -> None:
    result, probed = drive(regression(low=v("1.2"), high=v("1.9")), history("RRRRRRRRRR"))
    assert result.status is SearchStatus.INVALID_ANCHOR
    assert result.message == "1.2 was given as good but is bad"
    assert probed == [v("1.9"), v("1.2")]


# --- outward from one known side --------------------------------------------------------------------------


def test_outward_strides_double_then_bisect() -> None:
    releases = tuple(Version(f"2.{i}") for i in range(32))
    outcomes = {release: (P if i < 2 else R) for i, release in enumerate(releases)}
    search = TransitionSearch.start(releases, Direction.REGRESSION, high=releases[20])
    result, probed = drive(search, outcomes)
    assert [releases.index(r) for r in probed] == [20, 19, 18, 16, 12, 4, 0, 2, 1]
    assert result.boundary == (releases[1], releases[2])


def test_all_bad_range_has_no_good_release() -> None:
    result, probed = drive(regression(high=v("1.6")), history("RRRRRRRRRR"))
    assert result.status is SearchStatus.NOT_FOUND
    assert (result.before, result.after) == (None, v("1.0"))
    assert result.message == "no good release found before 1.0"
    assert len(probed) <= 1 + math.ceil(math.log2(6)) + 1


def test_unusable_oldest_releases_are_mentioned() -> None:
    result, _ = drive(regression(high=v("1.6")), history("UUIRRRRRRR"))
    assert result.status is SearchStatus.NOT_FOUND
    assert result.message == "no good release found before 1.3; 3 older could not be probed"


def test_all_good_range_never_reproduces() -> None:
    result, _ = drive(regression(low=v("1.2")), history("PPPPPPPPPP"))
    assert result.status is SearchStatus.NOT_FOUND
    assert (result.before, result.after) == (v("1.9"), None)
    assert result.message == "no bad release found after 1.9"


def test_bad_anchor_at_the_oldest_release_needs_no_stride() -> None:
    result, probed = drive(regression(high=v("1.0")), history("RRRRRRRRRR"))
    assert probed == [v("1.0")]
    assert result.message == "no good release found before 1.0"


def test_fix_inside_the_range_probes_newest_first() -> None:
    result, probed = drive(fix(low=v("1.2")), history("PPRRRRPPPP"))
    assert probed[:2] == [v("1.2"), v("1.9")]
    assert result.status is SearchStatus.FOUND
    assert (result.last_bad, result.first_fixed) == (v("1.5"), v("1.6"))
    assert result.message == "first fixed 1.6, last bad 1.5"
    # Bisecting 1.2..1.9 needs at most ceil(log2(6)) + 1 after the anchor and the newest release.
    assert len(probed) <= 2 + 3 + 1


def test_not_fixed_as_of_newest_release_takes_one_probe() -> None:
    result, probed = drive(fix(low=v("1.2")), history("PPRRRRRRRR"))
    assert probed == [v("1.2"), v("1.9")]
    assert result.status is SearchStatus.NOT_FOUND
    assert result.message == "not fixed as of the newest release 1.9"
    assert (result.last_bad, result.first_fixed) == (v("1.9"), None)


def test_fix_with_newest_unresolvable_falls_back_to_strides() -> None:
    result, probed = drive(fix(low=v("1.2")), history("PPRRRRRPUU"))
    assert probed[:4] == [v("1.2"), v("1.9"), v("1.3"), v("1.4")]
    assert result.boundary == (v("1.6"), v("1.7"))


def test_fix_not_found_when_newest_releases_cannot_be_probed() -> None:
    result, _ = drive(fix(low=v("1.2")), history("PPRRRRRRUU"))
    assert result.status is SearchStatus.NOT_FOUND
    assert result.message == "not fixed as of 1.7; 2 newer could not be probed"


def test_fix_without_newest_first_strides_from_the_anchor() -> None:
    search = TransitionSearch.start(RELEASES, Direction.FIX, low=v("1.2"))
    result, probed = drive(search, history("PPRRRRPPPP"))
    assert probed[:4] == [v("1.2"), v("1.3"), v("1.4"), v("1.6")]
    assert result.boundary == (v("1.5"), v("1.6"))


# --- outcomes known up front ------------------------------------------------------------------------------


def test_known_outcomes_are_never_proposed() -> None:
    outcomes = history("PPPPRRRRRR")
    known = {v("1.9"): BAD, v("1.0"): GOOD, v("1.4"): BAD, v("1.3"): GOOD}
    result, probed = drive(regression(low=v("1.0"), high=v("1.9"), known=known), outcomes)
    assert probed == []
    assert result.boundary == (v("1.3"), v("1.4"))


def test_second_run_with_first_runs_outcomes_probes_nothing() -> None:
    outcomes = history("UPPIPRRRPP")
    first, probed = drive(regression(high=v("1.7")), outcomes)
    known = {release: VerdictPolicy().verdict(outcomes[release]) for release in probed}
    second, again = drive(regression(high=v("1.7"), known=known), outcomes)
    assert probed and again == []
    assert second == first


def test_known_outcomes_off_the_path_narrow_the_search() -> None:
    outcomes = history("PPPPPPPRRR")
    without, probed_without = drive(regression(high=v("1.9")), outcomes)
    known = {v("1.6"): GOOD}
    with_known, probed_with = drive(regression(high=v("1.9"), known=known), outcomes)
    assert without.boundary == with_known.boundary == (v("1.6"), v("1.7"))
    assert len(probed_with) < len(probed_without)
    assert v("1.6") not in probed_with


def test_known_outcomes_for_other_items_are_ignored() -> None:
    search = regression(high=v("1.9"), known={v("0.1"): GOOD})
    assert search.next_probe() == v("1.9")


def test_non_monotone_history_is_reported_as_inconsistent() -> None:
    known = {v("1.1"): BAD, v("1.4"): GOOD}
    result, _ = drive(regression(low=v("1.0"), high=v("1.9"), known=known), history("PRPPPPRRRR"))
    assert result.boundary == (v("1.5"), v("1.6"))
    assert result.inconsistent == (v("1.1"),)


# --- progress bound and misuse ----------------------------------------------------------------------------


@pytest.mark.parametrize("first_bad", range(1, 10))
def test_max_remaining_bounds_the_probes_left(first_bad: int) -> None:
    outcomes = history("P" * first_bad + "R" * (10 - first_bad))
    search = regression(high=v("1.9"))
    while (release := search.next_probe()) is not None:
        before = search.max_remaining()
        search = search.fold(release, VerdictPolicy().verdict(outcomes[release]))
        assert before >= 1 and search.max_remaining() <= before - 1
    assert search.max_remaining() == 0


def test_max_remaining_starts_with_the_documented_bound() -> None:
    # A true bound counts unusable releases too: with eight between the anchors, all eight may need a probe
    # (as PIIIIIIIIR does); with none unusable the search takes 2 + ceil(log2(9)) (test_pair_finds_every_boundary).
    search = regression(low=v("1.0"), high=v("1.9"))
    assert search.max_remaining() == 2 + 8
    assert TransitionSearch.start(range(302), Direction.REGRESSION, low=0, high=301).max_remaining() == 2 + 18


def test_result_before_done_is_an_error() -> None:
    with pytest.raises(ValueError, match="still to be probed"):
        regression(high=v("1.9")).result()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: regression(high=v("3.0")), "not one of the searched items"),
        (lambda: regression(low=v("1.5"), high=v("1.5")), "must come before"),
        (lambda: regression(low=v("1.6"), high=v("1.5")), "must come before"),
        (regression, "at least one side"),
        (lambda: TransitionSearch.start(["a", "a"], Direction.FIX, low="a"), "distinct"),
        (lambda: regression(high=v("1.9")).fold(v("3.0"), BAD), "not one of the searched items"),
        (lambda: regression(high=v("1.9")).fold(v("1.9"), BAD).fold(v("1.9"), BAD), "already has a verdict"),
    ],
)
def test_misuse_is_rejected(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_searches_are_immutable() -> None:
    search = regression(high=v("1.9"))
    folded = search.fold(v("1.9"), BAD)
    assert search.verdicts[-1] is None
    assert folded.verdicts[-1] is BAD


# --- properties over monotone histories -------------------------------------------------------------------


def _lg(n: int) -> int:
    return math.ceil(math.log2(n)) if n > 1 else 0


@st.composite
def monotone_histories(draw: st.DrawFn) -> tuple[int, int, frozenset[int]]:
    """(n, first_after, skipped): before-verdicts below ``first_after``, after-verdicts from it on."""
    n = draw(st.integers(min_value=2, max_value=48))
    first_after = draw(st.integers(min_value=0, max_value=n))
    skipped = draw(st.frozensets(st.integers(min_value=0, max_value=n - 1), max_size=n // 2))
    return n, first_after, skipped


def _verdicts(direction: Direction, n: int, first_after: int, skipped: frozenset[int]) -> dict[int, BisectVerdict]:
    return {i: SKIP if i in skipped else (direction.before if i < first_after else direction.after) for i in range(n)}


def _check_against_observations(
    result: SearchResult[int], answers: Mapping[int, BisectVerdict], probed: Sequence[int], direction: Direction
) -> None:
    observed_before = [i for i in probed if answers[i] is direction.before]
    observed_after = [i for i in probed if answers[i] is direction.after]
    assert result.inconsistent == ()
    if result.status in (SearchStatus.FOUND, SearchStatus.AMBIGUOUS):
        assert result.before is not None and result.after is not None
        assert answers[result.before] is direction.before and answers[result.after] is direction.after
        assert all(i <= result.before for i in observed_before)
        assert all(i >= result.after for i in observed_after)
    if result.status is SearchStatus.FOUND:
        assert result.after == result.before + 1  # type: ignore[operator]
    if result.status is SearchStatus.AMBIGUOUS:
        assert result.candidates == tuple(range(result.before + 1, result.after + 1))  # type: ignore[operator]
        # Every candidate but the last was found unusable or lies, untried, between two found unusable: an
        # O(log N) search cannot probe a whole run, so it names what it left instead of claiming it.
        assert set(result.unusable) | set(result.untried) == set(result.candidates[:-1])
        assert all(answers[i] is SKIP and i in probed for i in result.unusable)
        assert not set(result.untried) & set(probed)
        assert all(min(result.unusable) < i < max(result.unusable) for i in result.untried)
    if result.status is SearchStatus.NOT_FOUND:
        assert all(answers[i] is SKIP and i in probed for i in result.unusable)
        assert not set(result.untried) & set(probed)


@settings(max_examples=300, deadline=None)
@given(monotone_histories(), st.sampled_from(list(Direction)))
def test_pair_search_is_consistent_and_within_bound(
    drawn: tuple[int, int, frozenset[int]], direction: Direction
) -> None:
    n, first_after, skipped = drawn
    first_after = min(max(first_after, 1), n - 1)
    skipped = skipped - {0, n - 1}
    answers = _verdicts(direction, n, first_after, skipped)
    search = TransitionSearch.start(range(n), direction, low=0, high=n - 1)
    probed: list[int] = []
    while (item := search.next_probe()) is not None:
        probed.append(item)
        search = search.fold(item, answers[item])
    result = search.result()
    _check_against_observations(result, answers, probed, direction)
    inner = probed[2:]
    skips = sum(answers[i] is SKIP for i in inner)
    if skips <= 1:  # a lone unusable item costs its neighbour, one probe
        assert len(inner) <= _lg(n) + 1 + skips
    else:  # from the second on, the edges of the unusable runs are bisected: the documented bound, per run
        runs = sum(1 for i in skipped if i - 1 not in skipped)
        assert len(inner) <= _lg(n) + 1 + runs * (2 * _lg(n) + 3)
    if result.status is SearchStatus.FOUND:
        assert result.after == first_after


@settings(max_examples=300, deadline=None)
@given(monotone_histories(), st.sampled_from(list(Direction)), st.booleans(), st.data())
def test_outward_search_is_consistent_and_within_bound(
    drawn: tuple[int, int, frozenset[int]], direction: Direction, newest_first: bool, data: st.DataObject
) -> None:
    n, first_after, skipped = drawn
    # Backwards from an after-side anchor, or forwards from a before-side one.
    backwards = data.draw(st.booleans())
    if backwards:
        anchor = data.draw(st.integers(min_value=min(first_after, n - 1), max_value=n - 1))
        first_after = min(first_after, anchor)
    else:
        anchor = data.draw(st.integers(min_value=0, max_value=max(first_after - 1, 0)))
        first_after = max(first_after, anchor + 1)
    skipped = skipped - {anchor}
    answers = _verdicts(direction, n, first_after, skipped)
    search = TransitionSearch.start(
        range(n),
        direction,
        low=None if backwards else anchor,
        high=anchor if backwards else None,
        newest_first=newest_first,
    )
    want = direction.before if backwards else direction.after
    probed: list[int] = []
    stride: list[int] = []
    rest: list[int] = []
    furthest = anchor
    found: int | None = None
    bracket_size = 0
    while (item := search.next_probe()) is not None:
        probed.append(item)
        (stride if found is None else rest).append(item)
        if found is None and answers[item] is want:
            found = item
            bracket_size = abs(item - furthest) + 1
        elif found is None and answers[item] is not SKIP and abs(item - anchor) > abs(furthest - anchor):
            furthest = item
        search = search.fold(item, answers[item])
    result = search.result()
    _check_against_observations(result, answers, probed, direction)

    stride = stride[1:]  # the anchor's own confirmation
    distance = abs(found - anchor) if found is not None else (anchor if backwards else n - 1 - anchor)
    skips = sum(answers[i] is SKIP for i in stride)
    # Once the offsets are used up, the rest of the list is bisected as a bracket (not walked one by one):
    # that can cost up to another ceil(log2(distance)) + 1 before the other side turns up.
    virtual = _lg(distance) + 1 if len(stride) > _lg(distance) + 1 + skips else 0
    assert len(stride) <= _lg(distance) + 1 + skips + virtual
    assert len(rest) <= _lg(bracket_size) + 1 + sum(answers[i] is SKIP for i in rest)
    if result.status is SearchStatus.NOT_FOUND:
        # Nothing beyond was seen on the other side; what lies untried between unusable items is named as such.
        rest_of_list = range(anchor) if backwards else range(anchor + 1, n)
        assert all(answers[i] is not want for i in rest_of_list if i not in result.untried)
    if result.status is SearchStatus.FOUND:
        assert result.after == first_after


@settings(max_examples=200, deadline=None)
@given(monotone_histories(), st.data())
def test_outcomes_known_up_front_are_reused_and_agree(
    drawn: tuple[int, int, frozenset[int]], data: st.DataObject
) -> None:
    n, first_after, skipped = drawn
    first_after = max(first_after, 1)
    anchor = n - 1 if first_after == n else data.draw(st.integers(min_value=first_after, max_value=n - 1))
    if first_after == n:
        first_after = n - 1
    skipped = skipped - {anchor}
    answers = _verdicts(Direction.REGRESSION, n, first_after, skipped)
    known_items = data.draw(st.frozensets(st.integers(min_value=0, max_value=n - 1)))
    known = {i: answers[i] for i in known_items}

    search = TransitionSearch.start(range(n), Direction.REGRESSION, high=anchor, known=known)
    probed: list[int] = []
    while (item := search.next_probe()) is not None:
        assert item not in known
        probed.append(item)
        search = search.fold(item, answers[item])
    result = search.result()
    _check_against_observations(result, answers, [*probed, *known], Direction.REGRESSION)

    everything = {**known, **{i: answers[i] for i in probed}}
    rerun = TransitionSearch.start(range(n), Direction.REGRESSION, high=anchor, known=everything)
    assert rerun.next_probe() is None
    assert rerun.result() == result
