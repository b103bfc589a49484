"""Outcome classes for a probe and the pure rules that assign one to what a probe observed."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from harness.model.signature import Phase, RaisedError, Signature


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
    FLAKY = "FLAKY"
    """Repeated runs in one environment disagreed: some reproduced the failure, others did not."""
    SETUP_FAILED = "SETUP_FAILED"
    """The replay's ``setup(**parameters)`` raised: the release could not be tested, whatever it raised."""
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
class Classification:
    """The outcome a run or a failed build is given, and the one line that says why."""

    outcome: Outcome
    detail: str


_MEMORY_ERRORS = frozenset({"builtins.MemoryError", "MemoryError"})


def classify_run(observation: RunObservation, signature: Signature) -> Classification:
    """Assign an outcome to a finished run; the order of checks is the order of precedence."""
    if observation.timed_out:
        return Classification(Outcome.TIMEOUT, "the case did not finish within its time limit")
    if observation.returncode < 0:
        return Classification(Outcome.CRASHED, f"killed by signal {-observation.returncode}")
    if not observation.completed:
        return Classification(
            Outcome.CRASHED,
            f"the interpreter exited with status {observation.returncode} before reporting a result"
            + (f": {observation.stderr_tail.strip().splitlines()[-1]}" if observation.stderr_tail.strip() else ""),
        )
    error = observation.error
    if error is None:
        return Classification(Outcome.PASSED, "the case ran to completion")
    if error.type_name in _MEMORY_ERRORS:
        return Classification(Outcome.CRASHED, "out of memory (MemoryError)")
    if error.phase is Phase.SETUP:
        # Set-up is not the check: an error there, even one that looks like the recorded one, says nothing
        # about the bug, so it never counts as REPRODUCED (bisection skips it, as git bisect's exit 125 does).
        return Classification(Outcome.SETUP_FAILED, f"setup() raised {error.type_name}: {error.first_line}")
    if signature.matches(error):
        return Classification(Outcome.REPRODUCED, f"{error.type_name}: {error.first_line}")
    return Classification(Outcome.DIFFERENT_ERROR, f"{error.type_name}: {error.first_line}")


@dataclass(frozen=True)
class Repeats:
    """How many times a probe ran its replay, and in how many of those runs the failure reproduced."""

    runs: int
    reproduced: int

    def __post_init__(self) -> None:
        if self.runs < 1 or not 0 <= self.reproduced <= self.runs:
            raise ValueError(f"{self.reproduced} reproduced of {self.runs} runs is not a count of runs")

    @property
    def share(self) -> float:
        return self.reproduced / self.runs

    def __str__(self) -> str:
        return f"{self.reproduced}/{self.runs}"

    def __add__(self, other: Repeats) -> Repeats:
        return Repeats(self.runs + other.runs, self.reproduced + other.reproduced)


@dataclass(frozen=True)
class RepeatedClassification:
    """The verdict on several runs of one probe, the counts, and which run's verdict speaks for them."""

    verdict: Classification
    repeats: Repeats
    representative: int
    """Index of the run whose error (or completion) the record shows: the first that reproduced, else the first
    run whose outcome is the verdict's."""


def classify_runs(verdicts: Sequence[Classification]) -> RepeatedClassification:
    """Fold the verdicts of repeated runs of one probe into one.

    Every run agreeing gives that outcome. Any reproduction next to runs that did not reproduce gives FLAKY: a
    failure seen at all is evidence, whatever the other runs did. With no reproduction, the first run that did
    not pass decides (a timeout in one run of three still means the probe could not be trusted to pass).
    """
    if not verdicts:
        raise ValueError("a probe runs its replay at least once")
    reproduced = [i for i, v in enumerate(verdicts) if v.outcome is Outcome.REPRODUCED]
    repeats = Repeats(len(verdicts), len(reproduced))
    if reproduced and len(reproduced) < len(verdicts):
        first = verdicts[reproduced[0]]
        detail = f"reproduced in {repeats} runs; {first.detail}"
        return RepeatedClassification(Classification(Outcome.FLAKY, detail), repeats, reproduced[0])
    if reproduced:
        return RepeatedClassification(verdicts[0], repeats, 0)
    failing = next((i for i, v in enumerate(verdicts) if v.outcome is not Outcome.PASSED), None)
    if failing is None:
        return RepeatedClassification(verdicts[0], repeats, 0)
    chosen = verdicts[failing]
    same = sum(1 for v in verdicts if v.outcome is chosen.outcome)
    if same == len(verdicts):
        return RepeatedClassification(chosen, repeats, failing)
    detail = f"{chosen.detail} (in {same} of {len(verdicts)} runs)"
    return RepeatedClassification(Classification(chosen.outcome, detail), repeats, failing)
