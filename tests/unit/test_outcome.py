"""Outcome classification from run observations and installer output."""

from __future__ import annotations

import pytest

from harness.environments.interface import InstallStage
from harness.environments.uv_messages import classify_install_failure
from harness.model.outcome import Outcome, RunObservation, classify_run
from harness.model.signature import RaisedError, Signature

SIGNATURE = Signature("fakepkg.FakeError", ("pattern 'n -> n 1'",))
MATCHING = RaisedError("fakepkg.FakeError", "shape mismatch for pattern 'n -> n 1': got 2 dims")
OTHER = RaisedError("builtins.ZeroDivisionError", "division by zero")


@pytest.mark.parametrize(
    ("observation", "outcome"),
    [
        (RunObservation(0, False, True, None), Outcome.PASSED),
        (RunObservation(0, False, True, MATCHING), Outcome.REPRODUCED),
        (RunObservation(0, False, True, OTHER), Outcome.DIFFERENT_ERROR),
        (RunObservation(-9, True, False, None), Outcome.TIMEOUT),
        (RunObservation(-11, False, False, None, "Segmentation fault"), Outcome.CRASHED),
        (RunObservation(-9, False, False, None), Outcome.CRASHED),
        (RunObservation(134, False, False, None, "Fatal Python error: Aborted"), Outcome.CRASHED),
        (RunObservation(0, False, True, RaisedError("builtins.MemoryError", "")), Outcome.CRASHED),
        # A timeout wins over whatever the killed process managed to report.
        (RunObservation(-9, True, True, MATCHING), Outcome.TIMEOUT),
    ],
)
def test_classify_run(observation: RunObservation, outcome: Outcome) -> None:
    assert classify_run(observation, SIGNATURE).outcome is outcome


def test_crash_detail_names_the_last_stderr_line() -> None:
    verdict = classify_run(RunObservation(134, False, False, None, "noise\nFatal Python error: Aborted\n"), SIGNATURE)
    assert verdict.detail.endswith("Fatal Python error: Aborted")


UNSOLVABLE = """  x No solution found when resolving dependencies:
  ╰─▶ Because x-transformers==1.42.21 depends on einops>=0.8.0 and you require einops==0.7.0, we can conclude
      that your requirements are unsatisfiable."""
NETWORK = "error: Failed to fetch: `https://pypi.org/simple/einops/`\n  Caused by: dns error"


@pytest.mark.parametrize(
    ("stage", "output", "outcome"),
    [
        (InstallStage.RESOLVE, UNSOLVABLE, Outcome.UNRESOLVABLE),
        # Issue #13: a network failure is an accident of the moment, not a verdict about the versions.
        (InstallStage.RESOLVE, NETWORK, Outcome.UNAVAILABLE),
        (InstallStage.INSTALL, "error: Failed to build `fakepkg==1.0`", Outcome.INSTALL_FAILED),
        # The same words at install time cannot be a resolver proof.
        (InstallStage.INSTALL, UNSOLVABLE, Outcome.INSTALL_FAILED),
    ],
)
def test_classify_install_failure(stage: InstallStage, output: str, outcome: Outcome) -> None:
    verdict = classify_install_failure(stage, output)
    assert verdict.outcome is outcome
    assert verdict.detail
