"""Pure search for where a case starts (or stops) reproducing along an ordered list: it proposes, it is told.

The same machinery bisects releases and commits. A search never runs anything: ``next_probe()`` names the
next item to try, ``fold(item, verdict)`` returns a new search that knows the answer, and ``result()`` says
what was found once nothing is left to propose. Because the next proposal is a function of the verdicts known
so far (nothing else), outcomes supplied up front are never proposed again, and a second run with the first
run's outcomes supplied proposes nothing at all.

Two directions share the code: a *regression* looks for the step from GOOD (lower index) to BAD (higher index),
a *fix* for the step from BAD to GOOD. Internally both are "the step from the *before* verdict to the *after*
verdict"; only the labels differ.

Probe strategy and bounds (probes counted are those whose answer was not known up front; N is the number of
items the search may probe, r the number of distinct runs of consecutive unusable items it meets):

* **Between a known pair** the search bisects the narrowest bracket the known verdicts allow, as ``brackets``
  describes: stable midpoints; one unusable item costs its neighbour (as ``git bisect skip``); from the second
  one on, the unusable items are taken as a run whose two edges are bisected, and items between two unusable
  ones are never probed. A stable midpoint is the item near the midpoint whose index is divisible by the
  largest power of two, among those that cost no probe over the midpoint at worst (nor, without unusable
  items, summed over every place the step may be): a rerun with a later good or an earlier bad release then
  probes mostly the items the first run did, whose outcomes are stored, at no cost in probes. Releases are
  searched as the package's whole ordered list, so an index (and the choice) stays put when new releases are
  appended. The search then needs at most ``ceil(log2 N) + 1 + r * (2 * ceil(log2 N) + 3)`` probes however
  the unusable items lie (a run of hundreds costs what a run of three does), checked with hypothesis over
  random tables with runs of skips.
* **Outward from one side** (only ``high``: step backwards looking for the before-verdict; only ``low``: step
  forwards looking for the after-verdict), probes sit at offsets 1, 2, 4, 8, ... from the anchor (as
  cargo-bisect-rustc does), clamped to the end of the list. An unusable offset is passed over (after trying
  its further neighbour once, while no two unusable items are known side by side), so a run of unusable
  releases costs one probe per doubling, not one per release. When the offsets are used up without reaching
  the other side, the rest of the list is searched as a bracket whose far end is a virtual other side. The
  stride phase adds at most ``2 * (ceil(log2 distance) + 1) + 1`` probes, with the same per-run cost after it.
  With ``newest_first`` a forward search probes the last release first, which for a fix search usually
  settles the other side in one probe.
* Each anchor whose verdict is not known is probed once first, to confirm it (one probe each).

``max_remaining()`` is a true upper bound on the probes still to come, whatever the remaining items answer
(unusable ones included): for a bracket ``brackets.worst_probes`` (exact for the plain midpoint, which the
stable one never does worse than), and for the stride phase the offsets left plus the worst bracket the rest of
the list can hold.

When unusable items hide the exact step, the result lists every candidate instead of guessing one, and says
which of them were found unusable and which lie between unusable ones untried. When the list ends before the
other side is found, the result says so.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from harness.bisection.brackets import choose, worst_probes, worst_within
from harness.bisection.verdicts import (
    BisectVerdict,
    Direction,
    SearchResult,
    SearchStatus,
    VerdictPolicy,
    Verdicts,
)

__all__ = [
    "BisectVerdict",
    "Direction",
    "SearchResult",
    "SearchStatus",
    "TransitionSearch",
    "VerdictPolicy",
    "Verdicts",
]

T = TypeVar("T", bound=Hashable)


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
        """The most probes still needed, whatever the remaining items answer (unusable ones included)."""
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
            return count + worst_probes(*self._bracket(frozen, self.low, self.high))
        outward = self._outward_start(frozen)
        if isinstance(outward, tuple):
            return count + worst_probes(*self._bracket(frozen, *outward))
        anchor, step = self._outward_anchor()
        beyond = self._beyond(outward, step)
        unknown = sum(1 for i in beyond if frozen[i] is None)
        if self._stride_choice(frozen, anchor, outward, step) is None:
            return count + worst_probes(*self._virtual_bracket(frozen, outward, step))
        strides = self._stride_budget(frozen, anchor, outward, step)
        return count + min(unknown, strides + worst_within(len(beyond)))

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
        choice = self._stride_choice(self.verdicts, anchor, outward, step)
        if choice is None:
            choice = choose(*self._virtual_bracket(self.verdicts, outward, step))
        if choice is not None:
            return choice
        return self._not_found(outward, step)

    def _outward_anchor(self) -> tuple[int, int]:
        """The single anchor and the direction (-1 backwards, +1 forwards) to step away from it."""
        if self.high is not None:
            return self.high, -1
        assert self.low is not None
        return self.low, 1

    def _beyond(self, furthest: int, step: int) -> range:
        """The items further out than ``furthest``, nearest first."""
        end = 0 if step < 0 else len(self.items) - 1
        return range(furthest + step, end + step, step)

    def _outward_start(self, verdicts: Verdicts) -> tuple[int, int] | int:
        """Either the bracket (lo, hi) to bisect, when the other side is already known somewhere beyond the
        anchor, or the index of the furthest item known on the anchor's side (where striding continues)."""
        anchor, step = self._outward_anchor()
        want = self.direction.before if step < 0 else self.direction.after
        same = self.direction.after if step < 0 else self.direction.before
        beyond = self._beyond(anchor, step)
        nearest = next((i for i in beyond if verdicts[i] is want), None)
        if nearest is not None:
            return (nearest, anchor) if step < 0 else (anchor, nearest)
        return max((i for i in beyond if verdicts[i] is same), key=lambda i: abs(i - anchor), default=anchor)

    def _stride_positions(self, anchor: int, step: int) -> Iterator[int]:
        """Offsets 1, 2, 4, ... from the anchor, clamped to the end of the list (which comes last, once)."""
        end = 0 if step < 0 else len(self.items) - 1
        offset = 1
        while True:
            position = max(anchor - offset, end) if step < 0 else min(anchor + offset, end)
            if position == anchor:
                return
            yield position
            if position == end:
                return
            offset *= 2

    def _stride_choice(self, verdicts: Verdicts, anchor: int, furthest: int, step: int) -> int | None:
        """The next stride probe, or None once the offsets beyond ``furthest`` are all known."""
        beyond = self._beyond(furthest, step)
        if all(verdicts[i] is not None for i in beyond):
            return None
        if self.newest_first and step > 0 and verdicts[beyond[-1]] is None:
            return beyond[-1]
        skip = BisectVerdict.SKIP
        run_met = any(verdicts[i] is skip and verdicts[i + step] is skip for i in beyond[:-1])
        for position in self._stride_positions(anchor, step):
            if (position - furthest) * step <= 0:
                continue
            if verdicts[position] is None:
                return position
            neighbour = self._neighbour(position, furthest, step)
            # A lone unusable offset is often a single broken release: its neighbour tells as much as it would
            # have. Once unusable items sit side by side, a run is likelier, and only doubling gets past it.
            if verdicts[position] is skip and not run_met and neighbour is not None and verdicts[neighbour] is None:
                return neighbour
        return None

    def _neighbour(self, position: int, furthest: int, step: int) -> int | None:
        """The item next to a stride position, further out unless it is the end of the list; None if neither
        lies beyond ``furthest``."""
        beyond = self._beyond(furthest, step)
        for neighbour in (position + step, position - step):
            if neighbour in beyond:
                return neighbour
        return None

    def _stride_budget(self, verdicts: Verdicts, anchor: int, furthest: int, step: int) -> int:
        """The most probes the stride phase can still make: an unknown offset and its neighbour, the neighbour
        of an unusable one, and the newest item for ``newest_first``."""
        beyond = self._beyond(furthest, step)
        count = 1 if self.newest_first and step > 0 and verdicts[beyond[-1]] is None else 0
        for position in self._stride_positions(anchor, step):
            if (position - furthest) * step <= 0:
                continue
            if verdicts[position] is None:
                count += 2
            elif verdicts[position] is BisectVerdict.SKIP:
                neighbour = self._neighbour(position, furthest, step)
                count += neighbour is not None and verdicts[neighbour] is None
        return count

    def _virtual_bracket(self, verdicts: Verdicts, furthest: int, step: int) -> tuple[int, int, tuple[int, ...]]:
        """The rest of the list beyond ``furthest`` as a bracket whose far end is a virtual other side."""
        lo, hi = (-1, furthest) if step < 0 else (furthest, len(self.items))
        return lo, hi, tuple(i for i in range(lo + 1, hi) if verdicts[i] is BisectVerdict.SKIP)

    def _narrow(self, verdicts: Verdicts, lo: int, hi: int) -> tuple[int, int]:
        """The narrowest bracket the known verdicts allow: the last before-verdict below ``hi``, then the first
        after-verdict above it. Deterministic, so that outcomes known up front always narrow it the same way."""
        before, after = self.direction.before, self.direction.after
        lo = max(i for i in range(lo, hi) if verdicts[i] is before)
        hi = min(i for i in range(lo + 1, hi + 1) if verdicts[i] is after)
        return lo, hi

    def _bracket(self, verdicts: Verdicts, lo: int, hi: int) -> tuple[int, int, tuple[int, ...]]:
        """The narrowed bracket and the unusable items inside it (all that is known there)."""
        lo, hi = self._narrow(verdicts, lo, hi)
        return lo, hi, tuple(i for i in range(lo + 1, hi) if verdicts[i] is BisectVerdict.SKIP)

    def _bisect(self, lo: int, hi: int) -> int | SearchResult[T]:
        lo, hi, skips = self._bracket(self.verdicts, lo, hi)
        choice = choose(lo, hi, skips)
        if choice is not None:
            return choice
        inconsistent = self._inconsistent(lo, hi)
        if hi == lo + 1:
            return self._result(SearchStatus.FOUND, lo, hi, self._found_message(lo, hi), inconsistent=inconsistent)
        candidates = self.items[lo + 1 : hi + 1]
        untried = tuple(self.items[i] for i in range(lo + 1, hi) if self.verdicts[i] is None)
        words = _WORDS[self.direction]
        message = (
            f"{words.first} is one of {len(candidates)} releases ({candidates[0]} .. {candidates[-1]}); "
            f"{len(skips)} could not be probed"
        )
        if untried:
            message += f", {len(untried)} between them not tried"
        return replace(
            self._result(SearchStatus.AMBIGUOUS, lo, hi, message, candidates=candidates, inconsistent=inconsistent),
            unusable=tuple(self.items[i] for i in skips),
            untried=untried,
        )

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

    def _not_found(self, furthest: int, step: int) -> SearchResult[T]:
        words = _WORDS[self.direction]
        beyond = self._beyond(furthest, step)
        unusable = tuple(self.items[i] for i in beyond if self.verdicts[i] is BisectVerdict.SKIP)
        untried = tuple(self.items[i] for i in beyond if self.verdicts[i] is None)
        edge = self.items[furthest]
        newer = "older" if step < 0 else "newer"
        untested = f"; {len(unusable)} {newer} could not be probed" if unusable else ""
        if untried:
            untested += f", {len(untried)} between them not tried"
        if step < 0:
            message = f"no {words.before_word} release found before {edge}{untested}"
        elif self.direction is Direction.FIX:
            message = f"not fixed as of {edge}{untested}" if beyond else f"not fixed as of the newest release {edge}"
        else:
            message = f"no {words.after_word} release found after {edge}{untested}"
        before, after = (None, furthest) if step < 0 else (furthest, None)
        return replace(self._result(SearchStatus.NOT_FOUND, before, after, message), unusable=unusable, untried=untried)

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
