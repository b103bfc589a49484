"""Where to probe inside a bracket whose two ends are known, with unusable items in it, and what that costs at worst.

A bracket ``(lo, hi)`` has its before-verdict at ``lo`` and its after-verdict at ``hi``; inside it every item is
either unknown or known to be unusable (a *skip*). The choice depends only on the ends and the skips:

* no skip inside: the midpoint (plain bisection);
* one skip: the unknown item nearest the midpoint, the upper one on a tie (``git bisect skip``'s neighbour);
* two or more: the skips are taken as one run, and the search bisects its edges: it probes the midpoint of the
  larger *edge gap* (between ``lo`` and the lowest skip, or between the highest skip and ``hi``; the upper on
  a tie), or, in a gap of at most ``WALK`` items, the item next to the run. Items between two skips are never
  probed: once both edge gaps are empty the step lies somewhere in the run, and the search stops there, naming
  the untried items as candidates rather than walking a run of hundreds of unusable releases one by one.

Since the choice is a function of (ends, lowest skip, highest skip, number of skips), the worst case over every
possible future answer is a small dynamic programme over the shape ``(kind, below, above)``; ``worst_probes``
is exact for a bracket, and ``worst_within(n)`` bounds any bracket with at most ``n`` items inside.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Sequence

WALK = 3
"""Edge gaps this small are walked from the run outwards: one probe more at most, and no untried items."""


def choose(lo: int, hi: int, skips: Sequence[int]) -> int | None:
    """The index to probe inside ``(lo, hi)``, whose known items are exactly ``skips`` (sorted); None when done."""
    if hi - lo - 1 <= len(skips):
        return None
    middle = (lo + hi) // 2
    if not skips:
        return middle
    if len(skips) == 1:
        (skip,) = skips
        if middle != skip:
            return middle
        return skip + 1 if skip + 1 < hi else skip - 1
    below, above = skips[0] - lo - 1, hi - skips[-1] - 1
    if below == above == 0:
        return None
    if above >= below:
        return skips[-1] + 1 if above <= WALK else (skips[-1] + hi) // 2
    return skips[0] - 1 if below <= WALK else (lo + skips[0]) // 2


class Shape(enum.Enum):
    """What the choice inside a bracket depends on, besides the sizes of the edge gaps."""

    PLAIN = "plain"
    ONE_SKIP = "one_skip"
    RUN = "run"


def shape_of(lo: int, hi: int, skips: Sequence[int]) -> tuple[Shape, int, int]:
    """(shape, items below the lowest skip, items above the highest); for PLAIN, (PLAIN, items inside, 0)."""
    if not skips:
        return Shape.PLAIN, hi - lo - 1, 0
    kind = Shape.ONE_SKIP if len(skips) == 1 else Shape.RUN
    return kind, skips[0] - lo - 1, hi - skips[-1] - 1


def worst_probes(lo: int, hi: int, skips: Sequence[int]) -> int:
    """The most probes a bracket can still take, over every answer its unknown items may give."""
    if hi - lo - 1 <= len(skips):
        return 0
    return _worst(*shape_of(lo, hi, skips))


_WITHIN = [0]
"""``worst_within`` of 0, 1, 2, ..., filled in on demand."""


def worst_within(size: int) -> int:
    """The most probes any bracket with at most ``size`` items inside can take.

    A bracket with no skip in it is the worst of its size: skips already known only take choices away from the
    adversary (checked for every shape up to a size in the tests), so the running maximum of PLAIN suffices.
    """
    while len(_WITHIN) <= size:
        _WITHIN.append(max(_WITHIN[-1], _worst(Shape.PLAIN, len(_WITHIN), 0)))
    return _WITHIN[max(size, 0)]


def _layout(kind: Shape, below: int, above: int) -> tuple[int, tuple[int, ...]]:
    """A canonical bracket of this shape: (hi, skips) with lo = 0 (a RUN's skips side by side)."""
    if kind is Shape.PLAIN:
        return below + 1, ()
    if kind is Shape.ONE_SKIP:
        return below + above + 2, (below + 1,)
    return below + above + 3, (below + 1, below + 2)


@functools.cache
def _worst(kind: Shape, below: int, above: int) -> int:
    hi, skips = _layout(kind, below, above)
    probe = choose(0, hi, skips)
    if probe is None:
        return 0
    before_side = (probe, hi, tuple(s for s in skips if s > probe))
    after_side = (0, probe, tuple(s for s in skips if s < probe))
    unusable = (0, hi, tuple(sorted((*skips, probe))))
    return 1 + max(worst_probes(*state) for state in (before_side, after_side, unusable))
