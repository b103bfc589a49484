"""Verdicts against accidents: which installer failures are proofs, and which are never reused as answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.environments.interface import InstallStage
from harness.environments.uv_messages import classify_install_failure, missing_locations
from harness.gate.policy import GateVerdict, outcome_verdict
from harness.model.outcome import Outcome

OFFLINE_MISS = """error: No solution found when resolving dependencies
  cause: Because fakepkg was not found in the cache and harness-probe depends on fakepkg==1.0, we can conclude \
that your requirements are unsatisfiable.

hint: Packages were unavailable because the network was disabled. When the network is disabled, registry \
packages may only be read from the cache."""
REGISTRY_MISS = """error: No solution found when resolving dependencies
  cause: Because fakepkg was not found in the package registry and harness-probe depends on fakepkg==1.0, we can \
conclude that your requirements are unsatisfiable."""
CONFLICT = """error: No solution found when resolving dependencies
  cause: Because there is no version of fakedep==7.0 and harness-probe depends on fakedep==7.0, we can conclude \
that your requirements are unsatisfiable."""
REFUSED = """error: Request failed after 3 retries in 4.4s
  cause: Failed to fetch: http://127.0.0.1:9/simple/fakedep/
  cause: tcp connect error
  cause: Connection refused (os error 111)"""
WHEEL_GONE = """error: Failed to download `fakedep==2.0`
  cause: Failed to read from the distribution cache"""
# python-dateutil 2.4.1.post1 as of its upload day: its sdist cannot get the setuptools uv builds with. Every run
# says the same, so it is a verdict; the same heading with a network cause below it stays an accident.
BUILD_REQUIRES_UNSATISFIABLE = """error: Failed to download and build `python-dateutil==2.4.1.post1`
  cause: Failed to resolve requirements from `setup.py` build
  cause: No solution found when resolving: `setuptools>=40.8.0`
  cause: Because only setuptools<=14.3.1 is available and you require setuptools>=40.8.0, we can conclude that \
your requirements are unsatisfiable."""
BUILD_FETCH_FAILED = """error: Failed to download and build `fakedep==2.0`
  cause: Request failed after 3 retries
  cause: error sending request for url (https://files.example/fakedep-2.0.tar.gz)"""


@pytest.mark.parametrize(
    ("stage", "output", "outcome"),
    [
        (InstallStage.RESOLVE, OFFLINE_MISS, Outcome.UNAVAILABLE),
        (InstallStage.RESOLVE, REFUSED, Outcome.UNAVAILABLE),
        (InstallStage.INSTALL, WHEEL_GONE, Outcome.UNAVAILABLE),
        # Online, with every local location present, uv's resolver conclusions are proofs.
        (InstallStage.RESOLVE, REGISTRY_MISS, Outcome.UNRESOLVABLE),
        (InstallStage.RESOLVE, CONFLICT, Outcome.UNRESOLVABLE),
        (InstallStage.RESOLVE, BUILD_REQUIRES_UNSATISFIABLE, Outcome.UNRESOLVABLE),
        (InstallStage.INSTALL, BUILD_REQUIRES_UNSATISFIABLE, Outcome.INSTALL_FAILED),
        (InstallStage.RESOLVE, BUILD_FETCH_FAILED, Outcome.UNAVAILABLE),
    ],
)
def test_only_a_resolver_proof_is_unresolvable(stage: InstallStage, output: str, outcome: Outcome) -> None:
    assert classify_install_failure(stage, output).outcome is outcome


def test_a_missing_index_folder_makes_a_not_found_no_proof(tmp_path: Path) -> None:
    gone = (tmp_path / "simple").as_uri()
    verdict = classify_install_failure(InstallStage.RESOLVE, REGISTRY_MISS, missing=missing_locations([gone]))
    assert verdict.outcome is Outcome.UNAVAILABLE
    assert verdict.detail.splitlines()[0] == f"not found: {gone}"


def test_an_interrupted_or_timed_out_installer_is_an_accident() -> None:
    verdict = classify_install_failure(InstallStage.INSTALL, "install timed out\n", interrupted=True)
    assert verdict.outcome is Outcome.UNAVAILABLE


def test_missing_locations_checks_local_folders_only(tmp_path: Path) -> None:
    present = tmp_path / "wheels"
    present.mkdir()
    web = "https://example.invalid/simple"
    locations = [present.as_uri(), str(present), str(tmp_path / "nope"), web, "directory:x"]
    assert missing_locations(locations) == (str(tmp_path / "nope"),)


def test_only_unavailable_is_an_accident_and_the_gate_calls_it_undecided() -> None:
    assert [outcome for outcome in Outcome if not outcome.is_verdict] == [Outcome.UNAVAILABLE]
    assert outcome_verdict(Outcome.UNAVAILABLE) is GateVerdict.UNDECIDED
