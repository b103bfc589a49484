"""What repeated runs of one environment say about a case: deterministic, or flaky and how many runs it needs."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from harness.model.outcome import Outcome, Repeats

CONFIDENCE = 0.99
"""The chance a release that fails at the observed rate shows the failure at least once in the advised runs."""


class Determinism(enum.Enum):
    DETERMINISTIC = "deterministic"
    FLAKY = "flaky"
    UNKNOWN = "unknown"
    """The replay did not run to a verdict (an install failure, a timeout, a different error)."""

    @property
    def exit_code(self) -> int:
        return {Determinism.DETERMINISTIC: 0, Determinism.FLAKY: 1, Determinism.UNKNOWN: 3}[self]


@dataclass(frozen=True)
class FlakyCheck:
    determinism: Determinism
    repeats: Repeats | None
    advised_repeat: int | None
    """For a flaky case: the ``--repeat`` at which a release failing this often shows it with ``CONFIDENCE``."""
    message: str


def advised_repeat(share: float, confidence: float = CONFIDENCE) -> int:
    """The fewest runs n with 1 - (1 - share)^n >= confidence: enough that a bad release is not taken as good."""
    if not 0 < share <= 1:
        raise ValueError("the share of runs that reproduced must be in (0, 1]")
    if share == 1:
        return 1
    return max(1, math.ceil(math.log(1 - confidence) / math.log(1 - share)))


def judge(outcome: Outcome, repeats: Repeats | None, detail: str) -> FlakyCheck:
    """The verdict on one probe made with many runs."""
    if repeats is None or outcome not in (Outcome.REPRODUCED, Outcome.PASSED, Outcome.FLAKY):
        return FlakyCheck(Determinism.UNKNOWN, repeats, None, f"could not tell: {outcome.value}: {detail}")
    if outcome is Outcome.FLAKY:
        advised = advised_repeat(repeats.share)
        return FlakyCheck(
            Determinism.FLAKY,
            repeats,
            advised,
            f"flaky: {repeats} reproduced; use --repeat >= {advised} (or repeat = {advised} in case.toml) so a bad "
            f"release shows the failure with {CONFIDENCE:.0%} confidence",
        )
    where = "reproduced" if outcome is Outcome.REPRODUCED else "reproduced (it passes here)"
    return FlakyCheck(Determinism.DETERMINISTIC, repeats, None, f"deterministic: {repeats} {where}")
