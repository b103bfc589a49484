"""Runs a case's replay several times in one built environment, each run its own process, and folds the verdicts.

A failure that shows only sometimes (sampling, thread races, hash seeds) needs runs in separate interpreters:
isolated mode starts one per run; fork mode forks a child per run from its worker, which is cheap but shares
the worker's hash seed. Each run is told its index in ``HARNESS_RUN_INDEX`` (a replay may seed from it); a
probe's ``sample`` shifts the indices, so a confirmation re-probe does not replay the same runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.environments.interface import Environment
from harness.model.case import Case, Parameters
from harness.model.outcome import RepeatedClassification, classify_run, classify_runs
from harness.model.signature import Signature
from harness.runners.interface import CaseRunner, RunResult


@dataclass(frozen=True)
class RepeatedRun:
    """Every run of one probe and the verdict on all of them."""

    runs: tuple[RunResult, ...]
    judged: RepeatedClassification

    @property
    def representative(self) -> RunResult:
        """The run the record shows: the first that reproduced, else the first with the verdict's outcome."""
        return self.runs[self.judged.representative]

    @property
    def seconds(self) -> float:
        return sum(run.seconds for run in self.runs)


def first_run_index(repeat: int, sample: int) -> int:
    """Sample k of a probe with n runs uses run indices k*n .. k*n+n-1: no two samples share a run."""
    return sample * repeat


def run_repeated(
    runner: CaseRunner,
    environment: Environment,
    case: Case,
    parameters: Parameters,
    signature: Signature,
    *,
    repeat: int,
    sample: int = 0,
) -> RepeatedRun:
    """Run the replay ``repeat`` times and classify the runs together (see ``classify_runs``)."""
    if repeat < 1:
        raise ValueError("a probe runs its replay at least once")
    start = first_run_index(repeat, sample)
    runs = tuple(runner.run(environment, case, parameters, run_index=start + i) for i in range(repeat))
    judged = classify_runs([classify_run(run.observation, signature) for run in runs])
    return RepeatedRun(runs, judged)
