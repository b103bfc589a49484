"""Outcome classes for a probe and the pure rules that assign one to what a probe observed."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from harness.model.signature import Phase, RaisedError, Signature


class Outcome(enum.Enum):
    """What one probe of one case in one environment found."""

    REPRODUCED = "REPRODUCED"
    PASSED = "PASSED"
    DIFFERENT_ERROR = "DIFFERENT_ERROR"
    UNRESOLVABLE = "UNRESOLVABLE"
    INSTALL_FAILED = "INSTALL_FAILED"
    TIMEOUT = "TIMEOUT"
    CRASHED = "CRASHED"
    SETUP_FAILED = "SETUP_FAILED"
    """The replay's ``setup(**parameters)`` raised: the release could not be tested, whatever it raised."""


@dataclass(frozen=True)
class RunObservation:
    """What running a case's replay in a built environment produced, before any judgement.

    ``error`` is set when the replay raised and the bootstrap reported it; ``completed`` is true when the
    bootstrap wrote its report at all (a process killed mid-way never does).
    """

    returncode: int
    timed_out: bool
    completed: bool
    error: RaisedError | None
    stderr_tail: str = ""


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    detail: str


_MEMORY_ERRORS = frozenset({"builtins.MemoryError", "MemoryError"})


def classify_run(observation: RunObservation, signature: Signature) -> Verdict:
    """Assign an outcome to a finished run; the order of checks is the order of precedence."""
    if observation.timed_out:
        return Verdict(Outcome.TIMEOUT, "the case did not finish within its time limit")
    if observation.returncode < 0:
        return Verdict(Outcome.CRASHED, f"killed by signal {-observation.returncode}")
    if not observation.completed:
        return Verdict(
            Outcome.CRASHED,
            f"the interpreter exited with status {observation.returncode} before reporting a result"
            + (f": {observation.stderr_tail.strip().splitlines()[-1]}" if observation.stderr_tail.strip() else ""),
        )
    error = observation.error
    if error is None:
        return Verdict(Outcome.PASSED, "the case ran to completion")
    if error.type_name in _MEMORY_ERRORS:
        return Verdict(Outcome.CRASHED, "out of memory (MemoryError)")
    if error.phase is Phase.SETUP:
        # Set-up is not the check: an error there, even one that looks like the recorded one, says nothing
        # about the bug, so it never counts as REPRODUCED (bisection skips it, as git bisect's exit 125 does).
        return Verdict(Outcome.SETUP_FAILED, f"setup() raised {error.type_name}: {error.first_line}")
    if signature.matches(error):
        return Verdict(Outcome.REPRODUCED, f"{error.type_name}: {error.first_line}")
    return Verdict(Outcome.DIFFERENT_ERROR, f"{error.type_name}: {error.first_line}")
