"""Where to probe inside a bracket whose two ends are known, with unusable items in it, and what that costs at worst.

A bracket ``(lo, hi)`` has its before-verdict at ``lo`` and its after-verdict at ``hi``; inside it every item is
either unknown or known to be unusable (a *skip*). The choice depends on the ends and the skips:

* no skip inside: the *stable midpoint* (below), an item near the midpoint;
* one skip: the unknown item nearest the midpoint, the upper one on a tie (``git bisect skip``'s neighbour);
* two or more: the skips are taken as one run, and the search bisects its edges: it probes the midpoint of the
  larger *edge gap* (between ``lo`` and the lowest skip, or between the highest skip and ``hi``; the upper on
  a tie), or, in a gap of at most ``WALK`` items, the item next to the run. Items between two skips are never
  probed: once both edge gaps are empty the step lies somewhere in the run, and the search stops there, naming
  the untried items as candidates rather than walking a run of hundreds of unusable releases one by one.

The cost at worst over every possible future answer is a small dynamic programme over the shape
``(kind, below, above)``, worked out as if a bracket without skips probed its plain midpoint ``(lo + hi) // 2``:
the values then depend on the shape alone and stay cached. ``worst_probes`` gives it for a bracket (a true
upper bound, exact for the plain midpoint) and ``worst_within(n)`` bounds any bracket with at most ``n`` items.

The stable midpoint (the idea of cargo-bisect-rustc's PR #372). The plain midpoint moves with both ends, so a
rerun whose bracket starts a release later probes another sequence and finds few of its stored outcomes. A
bracket without skips probes instead, of the items that cost nothing over the midpoint, the one whose absolute
position (index plus ``origin``) is divisible by the largest power of two, the nearest the middle on a tie and
then the upper one; brackets with nearby ends then mostly meet the same items, as on a binary tree laid over
the whole list. An item ``p`` costs nothing over the midpoint when

* without unusable items, bisection still needs as many probes as from the midpoint, at worst and summed over
  every place the step may be: of the ``m = hi - lo`` places, each side of ``p`` keeps at least
  ``max(2 ** (k - 1), m - 2 ** k)`` (``k = floor(log2 m)``), which is when every place is still settled in ``k``
  or ``k + 1`` probes;
* with them, ``1 + max(worst(p - lo - 1 plain), worst(hi - p - 1 plain), worst(one skip at p))`` (the step above
  ``p``, below it, or ``p`` unusable) is at most the midpoint's worst case.

The midpoint itself always qualifies, so there is always a choice; and by induction on the items left, a search
that only makes such choices never takes more probes than ``worst_probes`` says (nor, without unusable items,
more than plain bisection), so every bound built on it stays true.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterator, Sequence

WALK = 3
"""Edge gaps this small are walked from the run outwards: one probe more at most, and no untried items."""


def choose(lo: int, hi: int, skips: Sequence[int], *, origin: int = 0) -> int | None:
    """The index to probe inside ``(lo, hi)``, whose known items are exactly ``skips`` (sorted); None when done.

    ``origin`` is added to an index to make the absolute position the stable midpoint aligns: a caller that
    searches a slice of a longer list passes the slice's start, so that its probes line up with a search of
    another slice.
    """
    inside = hi - lo - 1
    if skips or inside <= 0:
        return _midpoint_choice(lo, hi, skips)
    # The window where each side keeps `least` of the places of the step: plain bisection's cost is untouched.
    places = hi - lo
    top = 1 << (places.bit_length() - 1)
    least = max(top // 2, places - top)
    budget = _worst(Shape.PLAIN, inside, 0)
    for position in _by_alignment(lo + least + origin, hi - least + origin):
        if _worst_after(lo, hi, (), position - origin) <= budget:
            return position - origin
    # Not reached: the window holds the midpoint, which always meets its own worst case.
    return (lo + hi) // 2


def _midpoint_choice(lo: int, hi: int, skips: Sequence[int]) -> int | None:
    """``choose`` with the plain midpoint for a bracket without skips: it depends on the bracket's shape only."""
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


def _by_alignment(first: int, last: int) -> Iterator[int]:
    """Every integer of ``[first, last]`` once: those divisible by a larger power of two first (0 by any), then
    the nearest the centre, then the upper one. Lazy, so that a bracket of thousands costs a few steps."""
    if first <= 0 <= last:
        yield 0
    # Below 2 ** bit_length, every number but 0 is an odd multiple of a smaller power of two.
    for level in reversed(range(max(abs(first), abs(last)).bit_length())):
        yield from _odd_multiples(first, last, 1 << level)


def _odd_multiples(first: int, last: int, unit: int) -> Iterator[int]:
    """The odd multiples of ``unit`` in ``[first, last]``, nearest the centre first, the upper one on a tie."""
    twice_centre = first + last
    below = twice_centre // 2 // unit
    if below % 2 == 0:
        below -= 1
    down, up = below * unit, (below + 2) * unit
    while down >= first or up <= last:
        if up <= last and (down < first or 2 * up - twice_centre <= twice_centre - 2 * down):
            yield up
            up += 2 * unit
        else:
            yield down
            down -= 2 * unit


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
    """The most probes a bracket can still take, over every answer its unknown items may give (exact for the
    plain midpoint, and never exceeded by the stable one)."""
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
    probe = _midpoint_choice(0, hi, skips)
    return 0 if probe is None else _worst_after(0, hi, skips, probe)


def _worst_after(lo: int, hi: int, skips: Sequence[int], probe: int) -> int:
    """The most probes a bracket can take when it probes ``probe`` first and then follows the midpoint rules."""
    before_side = (probe, hi, tuple(s for s in skips if s > probe))
    after_side = (lo, probe, tuple(s for s in skips if s < probe))
    unusable = (lo, hi, tuple(sorted((*skips, probe))))
    return 1 + max(worst_probes(*state) for state in (before_side, after_side, unusable))
