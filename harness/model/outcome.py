"""Outcome classes for a probe and the pure rules that assign one to what a probe observed."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from harness.model.signature import RaisedError, Signature


class Outcome(enum.Enum):
    """What one probe of one case in one environment found: a verdict about the versions, or an accident.

    Every outcome but UNAVAILABLE is a verdict: probing the same request again would find the same. UNAVAILABLE
    is an accident of the moment (the index unreachable, an offline cache miss, a missing ``file://`` folder,
    an installer interrupted or out of time): it is recorded so reports show it, but never reused as an answer,
    so the next run probes again.
    """

    REPRODUCED = "REPRODUCED"
    PASSED = "PASSED"
    DIFFERENT_ERROR = "DIFFERENT_ERROR"
    UNRESOLVABLE = "UNRESOLVABLE"
    INSTALL_FAILED = "INSTALL_FAILED"
    TIMEOUT = "TIMEOUT"
    CRASHED = "CRASHED"
    UNAVAILABLE = "UNAVAILABLE"

    @property
    def is_verdict(self) -> bool:
        """Whether the outcome says something about the versions, rather than about the moment it was probed."""
        return self is not Outcome.UNAVAILABLE


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
    if signature.matches(error):
        return Verdict(Outcome.REPRODUCED, f"{error.type_name}: {error.first_line}")
    return Verdict(Outcome.DIFFERENT_ERROR, f"{error.type_name}: {error.first_line}")
