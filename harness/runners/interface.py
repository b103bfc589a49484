"""The case-runner seam: run one case with given parameters in one environment, return an observation."""

from __future__ import annotations

import abc
from dataclasses import dataclass

from harness.environments.interface import Environment
from harness.model.case import Case, Parameters
from harness.model.outcome import RunObservation


@dataclass(frozen=True)
class RunResult:
    observation: RunObservation
    seconds: float
    python_full: str | None = None
    platform: str | None = None
    mode: str = "isolated"
    modules: tuple[str, ...] = ()
    """Modules loaded when the case finished (from the bootstrap), used to plan pre-imports."""


class CaseRunner(abc.ABC):
    @abc.abstractmethod
    def run(self, environment: Environment, case: Case, parameters: Parameters, *, run_index: int = 0) -> RunResult:
        """Run the case to completion or timeout; every failure of the case itself is in the result.

        ``run_index`` numbers the runs of a repeated probe; the replay sees it as ``HARNESS_RUN_INDEX``."""

    def ready(self, environment: Environment, case: Case, *, guess_round: int = 0) -> bool:
        """Whether ``run`` would start the case now rather than first wait for something slow to get ready
        (a fork worker importing torch); when not, the runner may get it ready in the background. A probe
        run ahead on a guess asks this, and declines to wait; ``guess_round`` numbers its round of guesses
        (``harness.probing.lookahead``), later rounds larger, so that a runner can favour the latest."""
        return True

    def close(self) -> None:  # noqa: B027 - most runners hold nothing open
        """Release what the runner keeps between probes (worker processes)."""
