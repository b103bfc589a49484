"""The values a search deals in: a probe's verdict, the policy that gives it, the direction, the result."""

from __future__ import annotations

import enum
from collections.abc import Hashable
from dataclasses import dataclass
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
    """Unusable items hide the step; it lies at one of ``candidates`` (``after`` is the first usable one), so
    ``after`` is only the first item *confirmed* on the after side, not the first one there."""
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
    unusable: tuple[T, ...] = ()
    """For AMBIGUOUS, the candidates probed and found unusable; for NOT_FOUND, those beyond the last one seen."""
    untried: tuple[T, ...] = ()
    """Likewise, the items never probed because they lie between unusable ones (presumed unusable too)."""

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
