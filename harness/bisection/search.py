"""Pure search for where a case starts (or stops) reproducing along an ordered list: it proposes, it is told.

The same machinery bisects releases and commits. A search never runs anything: ``next_probe()`` names the
next item to try, ``fold(item, verdict)`` returns a new search that knows the answer, and ``result()`` says
what was found once nothing is left to propose. Because the next proposal is a function of the verdicts known
so far (nothing else), outcomes supplied up front are never proposed again, and a second run with the first
run's outcomes supplied proposes nothing at all.

Two directions share the code: a *regression* looks for the step from GOOD (lower index) to BAD (higher index),
a *fix* for the step from BAD to GOOD. Internally both are "the step from the *before* verdict to the *after*
verdict"; only the labels differ.

Probe strategy and bounds (probes counted are those whose answer was not known up front):

* **Between a known pair** (``low`` and ``high`` both given and verified), the search probes the midpoint of the
  narrowest bracket the known verdicts allow; when that release is unusable (SKIP) it probes the nearest usable
  unprobed neighbour, alternating sides (upper first), as ``git bisect skip`` does. It needs at most
  ``ceil(log2(N)) + 1`` probes plus one per skipped release, where N is the number of releases strictly between
  the pair plus 2.
* **Outward from one side** (only ``high``: step backwards looking for the before-verdict; only ``low``: step
  forwards looking for the after-verdict), probes sit at offsets 1, 2, 4, 8, ... from the anchor (as
  cargo-bisect-rustc does), clamped to the end of the list, with unusable ones replaced by their nearest
  neighbour (further out first). This stride phase adds at most ``ceil(log2(distance)) + 1`` probes (plus one per
  skipped release), where distance counts releases from the anchor to the first release found on the other side,
  or to the end of the list when none is. With ``newest_first`` a forward search probes the last release first,
  which for a fix search usually settles the other side in one probe.
* Each anchor whose verdict is not known is probed once first, to confirm it (one probe each, outside the bounds
  above).

When skipped releases hide the exact step, the result lists every candidate instead of guessing one. When the
list ends before the other side is found, the result says so.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from harness.model.outcome import Outcome, Repeats

T = TypeVar("T", bound=Hashable)


class BisectVerdict(enum.Enum):
    """What one probe means for the search: which side of the step it lies on, or unusable."""

    GOOD = "good"
    BAD = "bad"
    SKIP = "skip"


@dataclass(frozen=True)
class VerdictPolicy:
    """How probe outcomes count: REPRODUCED is bad, PASSED good, anything else unusable unless told otherwise.

    A FLAKY release (some of its runs reproduced) is bad: a failure seen at all is evidence that the release
    carries the bug, while a pass only says it did not show this time. ``flaky_threshold`` asks for more: bad
    only when at least that share of the runs reproduced, and unusable (skipped) below it.
    """

    different_error_is_bad: bool = False
    """Count DIFFERENT_ERROR as bad, for a search for "when did this start failing at all"."""
    flaky_threshold: float | None = None
    """None: FLAKY is bad. A share in (0, 1]: FLAKY is bad at or above it, unusable below."""

    def verdict(self, outcome: Outcome, repeats: Repeats | None = None) -> BisectVerdict:
        """``repeats`` (runs and reproductions) matter only for FLAKY under a threshold."""
        if outcome is Outcome.FLAKY:
            if self.flaky_threshold is None or (repeats is not None and repeats.share >= self.flaky_threshold):
                return BisectVerdict.BAD
            return BisectVerdict.SKIP
        if outcome is Outcome.REPRODUCED:
            return BisectVerdict.BAD
        if outcome is Outcome.PASSED:
            return BisectVerdict.GOOD
        if outcome is Outcome.DIFFERENT_ERROR and self.different_error_is_bad:
            return BisectVerdict.BAD
        return BisectVerdict.SKIP


class Direction(enum.Enum):
    """Which step a search looks for, from its lower-index side to its higher-index side."""

    REGRESSION = "regression"
    """GOOD then BAD: where the failure started."""
    FIX = "fix"
    """BAD then GOOD: where the failure stopped."""

    @property
    def before(self) -> BisectVerdict:
        return BisectVerdict.GOOD if self is Direction.REGRESSION else BisectVerdict.BAD

    @property
    def after(self) -> BisectVerdict:
        return BisectVerdict.BAD if self is Direction.REGRESSION else BisectVerdict.GOOD


class SearchStatus(enum.Enum):
    FOUND = "found"
    """An adjacent pair: ``before`` is the last item before the step, ``after`` the first after it."""
    AMBIGUOUS = "ambiguous"
    """Unusable items hide the step; it lies at one of ``candidates`` (``after`` is the first usable one)."""
    NOT_FOUND = "not_found"
    """The list ended without reaching the other side."""
    INVALID_ANCHOR = "invalid_anchor"
    """An item given as known on one side turned out otherwise (or could not be probed)."""
    UNCONFIRMED = "unconfirmed"
    """Re-probing the items either side of the step contradicted it (a lucky run); the step lies at one of
    ``candidates``, between the nearest items still known on each side (``before``/``after``, either may be
    None). Set by ``bisection.confirm``, never by the search itself."""


@dataclass(frozen=True)
class SearchResult(Generic[T]):
    """What a finished search found; ``before``/``after`` are named for the direction by the properties below."""

    direction: Direction
    status: SearchStatus
    before: T | None
    """The last item seen on the before side next to the step (last good / last bad)."""
    after: T | None
    """The first item seen on the after side next to the step (first bad / first fixed)."""
    message: str
    candidates: tuple[T, ...] = ()
    """For AMBIGUOUS: every item that may be the first on the after side, in order (ends with ``after``)."""
    inconsistent: tuple[T, ...] = ()
    """Items in the searched range whose verdict contradicts a single step (the history is not monotone)."""
    anchor: T | None = None
    """For INVALID_ANCHOR: the anchor that did not behave as given."""

    @property
    def boundary(self) -> tuple[T, T] | None:
        """The adjacent (before, after) pair when the step was pinned down exactly."""
        if self.status is SearchStatus.FOUND and self.before is not None and self.after is not None:
            return (self.before, self.after)
        return None

    @property
    def last_good(self) -> T | None:
        return self.before if self.direction is Direction.REGRESSION else None

    @property
    def first_bad(self) -> T | None:
        return self.after if self.direction is Direction.REGRESSION else None

    @property
    def last_bad(self) -> T | None:
        return self.before if self.direction is Direction.FIX else None

    @property
    def first_fixed(self) -> T | None:
        return self.after if self.direction is Direction.FIX else None


Verdicts = tuple[BisectVerdict | None, ...]
"""One entry per item, aligned with the item list; None while unknown."""


@dataclass(frozen=True)
class TransitionSearch(Generic[T]):
    """An immutable search state: the items, the anchors, and every verdict known so far."""

    items: tuple[T, ...]
    direction: Direction
    low: int | None
    """Index of an item asserted to be on the before side (e.g. the given good release of a regression)."""
    high: int | None
    """Index of an item asserted to be on the after side (e.g. the given bad release of a regression)."""
    verdicts: Verdicts
    newest_first: bool = False
    """In a forward outward search, probe the last item before striding (a fix is usually in the newest)."""

    def __post_init__(self) -> None:
        if len(self.verdicts) != len(self.items):
            raise ValueError("one verdict slot per item is required")
        if self.low is None and self.high is None:
            raise ValueError("a search needs an item known on at least one side")
        for anchor in (self.low, self.high):
            if anchor is not None and not 0 <= anchor < len(self.items):
                raise ValueError(f"anchor index {anchor} is outside the list")
        if self.low is not None and self.high is not None and self.low >= self.high:
            raise ValueError("the before-side anchor must come before the after-side anchor")

    @classmethod
    def start(
        cls,
        items: Sequence[T],
        direction: Direction,
        *,
        low: T | None = None,
        high: T | None = None,
        known: Mapping[T, BisectVerdict] | None = None,
        newest_first: bool = False,
    ) -> TransitionSearch[T]:
        """A search over ``items`` (in order, no duplicates); ``known`` entries for other items are ignored."""
        ordered = tuple(items)
        index = {item: i for i, item in enumerate(ordered)}
        if len(index) != len(ordered):
            raise ValueError("the items of a search must be distinct")
        verdicts: list[BisectVerdict | None] = [None] * len(ordered)
        for item, verdict in (known or {}).items():
            if item in index:
                verdicts[index[item]] = verdict
        return cls(
            items=ordered,
            direction=direction,
            low=_index_of(index, low),
            high=_index_of(index, high),
            verdicts=tuple(verdicts),
            newest_first=newest_first,
        )

    def next_probe(self) -> T | None:
        """The item to probe next, or None when the search is finished."""
        step = self._plan()
        return self.items[step] if isinstance(step, int) else None

    def fold(self, item: T, verdict: BisectVerdict) -> TransitionSearch[T]:
        """A new search that also knows ``item``'s verdict."""
        try:
            position = self.items.index(item)
        except ValueError:
            raise ValueError(f"{item!r} is not one of the searched items") from None
        if self.verdicts[position] is not None:
            raise ValueError(f"{item!r} already has a verdict ({self.verdicts[position]})")
        verdicts = list(self.verdicts)
        verdicts[position] = verdict
        return replace(self, verdicts=tuple(verdicts))

    def result(self) -> SearchResult[T]:
        step = self._plan()
        if isinstance(step, int):
            raise ValueError(f"the search is not finished: {self.items[step]!r} is still to be probed")
        return step

    def max_remaining(self) -> int:
        """The most probes still needed, assuming no further item turns out unusable."""
        count = 0
        verdicts = list(self.verdicts)
        for anchor, expected in self._anchors():
            if verdicts[anchor] is None:
                count += 1
                verdicts[anchor] = expected
            elif verdicts[anchor] is not expected:
                return 0
        frozen = tuple(verdicts)
        if self.low is not None and self.high is not None:
            return count + _worst_bisect(frozen, *self._narrow(frozen, self.low, self.high))
        outward = self._outward_start(frozen)
        if isinstance(outward, tuple):
            return count + _worst_bisect(frozen, *self._narrow(frozen, *outward))
        anchor, step = self._outward_anchor()
        return count + self._worst_outward(frozen, anchor, outward, step)

    # --- the strategy -----------------------------------------------------------------------------------

    def _anchors(self) -> list[tuple[int, BisectVerdict]]:
        """Anchors to confirm, the one expected to be BAD first: if the failure does not reproduce there,
        nothing else is worth probing."""
        anchors = [
            (anchor, expected)
            for anchor, expected in ((self.low, self.direction.before), (self.high, self.direction.after))
            if anchor is not None
        ]
        return sorted(anchors, key=lambda pair: pair[1] is not BisectVerdict.BAD)

    def _plan(self) -> int | SearchResult[T]:
        for anchor, expected in self._anchors():
            verdict = self.verdicts[anchor]
            if verdict is None:
                return anchor
            if verdict is not expected:
                return self._invalid_anchor(anchor, expected, verdict)
        if self.low is not None and self.high is not None:
            return self._bisect(self.low, self.high)
        outward = self._outward_start(self.verdicts)
        if isinstance(outward, tuple):
            return self._bisect(*outward)
        anchor, step = self._outward_anchor()
        choice = self._outward_choice(self.verdicts, anchor, outward, step)
        if choice is not None:
            return choice
        return self._not_found(anchor, outward, step)

    def _outward_anchor(self) -> tuple[int, int]:
        """The single anchor and the direction (-1 backwards, +1 forwards) to step away from it."""
        if self.high is not None:
            return self.high, -1
        assert self.low is not None
        return self.low, 1

    def _outward_start(self, verdicts: Verdicts) -> tuple[int, int] | int:
        """Either the bracket (lo, hi) to bisect, when the other side is already known somewhere beyond the
        anchor, or the index of the furthest item known on the anchor's side (where striding continues)."""
        anchor, step = self._outward_anchor()
        want = self.direction.before if step < 0 else self.direction.after
        same = self.direction.after if step < 0 else self.direction.before
        end = 0 if step < 0 else len(self.items) - 1
        beyond = range(anchor + step, end + step, step)
        nearest = next((i for i in beyond if verdicts[i] is want), None)
        if nearest is not None:
            return (nearest, anchor) if step < 0 else (anchor, nearest)
        return max((i for i in beyond if verdicts[i] is same), key=lambda i: abs(i - anchor), default=anchor)

    def _outward_choice(self, verdicts: Verdicts, anchor: int, furthest: int, step: int) -> int | None:
        end = 0 if step < 0 else len(self.items) - 1
        unknown = [i for i in range(furthest + step, end + step, step) if verdicts[i] is None]
        if not unknown:
            return None
        if self.newest_first and step > 0 and verdicts[end] is None:
            return end
        # Offsets 1, 2, 4, ...: the next power of two beyond the furthest item already on the anchor's side.
        offset = 1 << abs(furthest - anchor).bit_length()
        target = anchor + step * offset
        target = max(target, end) if step < 0 else min(target, end)
        # An unusable target is replaced by the nearest unknown item further out; items nearer than the target
        # are only tried when none further remain (stepping back would spend a probe without widening the view).
        return min(unknown, key=lambda i: ((i - target) * step < 0, abs(i - target)))

    def _worst_outward(self, verdicts: Verdicts, anchor: int, furthest: int, step: int) -> int:
        worst = 0
        taken = 0
        current = list(verdicts)
        same = self.direction.after if step < 0 else self.direction.before
        while (choice := self._outward_choice(tuple(current), anchor, furthest, step)) is not None:
            taken += 1
            # Were this probe on the other side, the rest is a bisection back to the furthest same-side item.
            bracket = (choice, furthest) if step < 0 else (furthest, choice)
            worst = max(worst, taken + _worst_bisect(verdicts, *bracket))
            current[choice] = same
            furthest = choice
        return max(worst, taken)

    def _narrow(self, verdicts: Verdicts, lo: int, hi: int) -> tuple[int, int]:
        """The narrowest bracket the known verdicts allow: the last before-verdict below ``hi``, then the first
        after-verdict above it. Deterministic, so that outcomes known up front always narrow it the same way."""
        before, after = self.direction.before, self.direction.after
        lo = max(i for i in range(lo, hi) if verdicts[i] is before)
        hi = min(i for i in range(lo + 1, hi + 1) if verdicts[i] is after)
        return lo, hi

    def _bisect(self, lo: int, hi: int) -> int | SearchResult[T]:
        lo, hi = self._narrow(self.verdicts, lo, hi)
        choice = _bisect_choice(self.verdicts, lo, hi)
        if choice is not None:
            return choice
        inconsistent = self._inconsistent(lo, hi)
        if hi == lo + 1:
            return self._result(SearchStatus.FOUND, lo, hi, self._found_message(lo, hi), inconsistent=inconsistent)
        candidates = self.items[lo + 1 : hi + 1]
        words = _WORDS[self.direction]
        message = (
            f"the {words.first} is one of {', '.join(map(str, candidates))}; "
            f"{', '.join(map(str, candidates[:-1]))} could not be probed"
        )
        return self._result(SearchStatus.AMBIGUOUS, lo, hi, message, candidates=candidates, inconsistent=inconsistent)

    def _found_message(self, lo: int, hi: int) -> str:
        words = _WORDS[self.direction]
        return f"{words.first} {self.items[hi]}, {words.last} {self.items[lo]}"

    def _inconsistent(self, lo: int, hi: int) -> tuple[T, ...]:
        start = self.low if self.low is not None else 0
        stop = self.high if self.high is not None else len(self.items) - 1
        before, after = self.direction.before, self.direction.after
        return tuple(
            self.items[i]
            for i in range(start, stop + 1)
            if (i <= lo and self.verdicts[i] is after) or (i >= hi and self.verdicts[i] is before)
        )

    def _not_found(self, anchor: int, furthest: int, step: int) -> SearchResult[T]:
        words = _WORDS[self.direction]
        end = 0 if step < 0 else len(self.items) - 1
        unusable = sum(1 for i in range(furthest + step, end + step, step) if self.verdicts[i] is BisectVerdict.SKIP)
        edge = self.items[furthest]
        if step < 0:
            message = f"no {words.before_word} release found before {edge}"
            if unusable:
                message += f"; {unusable} older could not be probed"
            return self._result(SearchStatus.NOT_FOUND, None, furthest, message)
        if self.direction is Direction.FIX:
            message = (
                f"not fixed as of the newest release {edge}"
                if furthest == end
                else f"not fixed as of {edge}; {unusable} newer could not be probed"
            )
        else:
            message = f"no {words.after_word} release found after {edge}"
            if unusable:
                message += f"; {unusable} newer could not be probed"
        return self._result(SearchStatus.NOT_FOUND, furthest, None, message)

    def _invalid_anchor(self, anchor: int, expected: BisectVerdict, actual: BisectVerdict) -> SearchResult[T]:
        found = "could not be probed" if actual is BisectVerdict.SKIP else f"is {actual.value}"
        message = f"{self.items[anchor]} was given as {expected.value} but {found}"
        return replace(self._result(SearchStatus.INVALID_ANCHOR, None, None, message), anchor=self.items[anchor])

    def _result(
        self,
        status: SearchStatus,
        before: int | None,
        after: int | None,
        message: str,
        *,
        candidates: tuple[T, ...] = (),
        inconsistent: tuple[T, ...] = (),
    ) -> SearchResult[T]:
        return SearchResult(
            direction=self.direction,
            status=status,
            before=None if before is None else self.items[before],
            after=None if after is None else self.items[after],
            message=message,
            candidates=candidates,
            inconsistent=inconsistent,
        )


@dataclass(frozen=True)
class _Words:
    first: str
    last: str
    before_word: str
    after_word: str


_WORDS = {
    Direction.REGRESSION: _Words("first bad", "last good", "good", "bad"),
    Direction.FIX: _Words("first fixed", "last bad", "bad", "fixed"),
}


def _index_of(index: Mapping[T, int], item: T | None) -> int | None:
    if item is None:
        return None
    try:
        return index[item]
    except KeyError:
        raise ValueError(f"{item!r} is not one of the searched items") from None


def _nearest(candidates: Iterable[int], target: int, *, prefer: int) -> int:
    """The candidate closest to ``target``; on a tie, the one in the ``prefer`` direction (+1 up, -1 down)."""
    return min(candidates, key=lambda i: (abs(i - target), (i - target) * prefer < 0))


def _bisect_choice(verdicts: Verdicts, lo: int, hi: int) -> int | None:
    unknown = [i for i in range(lo + 1, hi) if verdicts[i] is None]
    if not unknown:
        return None
    # Prefer the upper neighbour: the floor midpoint leaves the upper part the larger one.
    return _nearest(unknown, (lo + hi) // 2, prefer=1)


def _worst_bisect(verdicts: Verdicts, lo: int, hi: int) -> int:
    """Probes a bisection of (lo, hi) needs at most if every remaining probe is usable.

    Every probe becomes an end of the next bracket and the items inside a bracket never change, so the
    worst case is a recursion over disjoint brackets.
    """
    choice = _bisect_choice(verdicts, lo, hi)
    if choice is None:
        return 0
    return 1 + max(_worst_bisect(verdicts, lo, choice), _worst_bisect(verdicts, choice, hi))
