"""Set-up and check are separate: the bootstrap reports which phase raised, and set-up errors are SETUP_FAILED."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from harness.bisection.search import BisectVerdict, VerdictPolicy
from harness.gate.policy import GateVerdict, outcome_verdict
from harness.model.outcome import Outcome, RunObservation, classify_run
from harness.model.signature import Phase, RaisedError, Signature
from harness.reports.html.style import OUTCOME_STYLES
from harness.runners import _bootstrap
from harness.runners.isolated import raised_error_from

BARE = Signature("AssertionError", message_regex="^$")


def bare_assertion(phase: Phase) -> RaisedError:
    return RaisedError("builtins.AssertionError", "", type_chain=("builtins.AssertionError",), phase=phase)


@pytest.mark.parametrize(
    ("phase", "outcome"),
    [
        (Phase.SETUP, Outcome.SETUP_FAILED),  # even though the error matches the signature
        (Phase.REPLAY, Outcome.REPRODUCED),
        (Phase.LOAD, Outcome.REPRODUCED),  # importing replay.py is part of the check, as it always was
    ],
)
def test_an_error_in_setup_is_never_reproduced(phase: Phase, outcome: Outcome) -> None:
    verdict = classify_run(RunObservation(0, False, True, bare_assertion(phase)), BARE)
    assert verdict.outcome is outcome
    if outcome is Outcome.SETUP_FAILED:
        assert verdict.detail.startswith("setup() raised builtins.AssertionError")


def test_setup_failed_is_skipped_by_bisection_undecided_for_the_gate_and_styled() -> None:
    assert VerdictPolicy().verdict(Outcome.SETUP_FAILED) is BisectVerdict.SKIP
    assert VerdictPolicy(different_error_is_bad=True).verdict(Outcome.SETUP_FAILED) is BisectVerdict.SKIP
    assert outcome_verdict(Outcome.SETUP_FAILED) is GateVerdict.UNDECIDED
    assert outcome_verdict(Outcome.SETUP_FAILED, different_error_fails=True) is GateVerdict.UNDECIDED
    assert outcome_verdict(Outcome.SETUP_FAILED, strict=True) is GateVerdict.FAILED
    assert OUTCOME_STYLES[Outcome.SETUP_FAILED].label == "set-up failed"


def run_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, **parameters: object
) -> RaisedError | None:
    """The bootstrap's own function, in this process: it is standard library only and writes one JSON file."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "replay", raising=False)
    replay = tmp_path / "replay.py"
    replay.write_text(textwrap.dedent(source), encoding="utf-8")
    result = tmp_path / "report.json"
    _bootstrap.run_case(str(replay), json.dumps(parameters), str(result))
    return raised_error_from(json.loads(result.read_text(encoding="utf-8")))


def test_setup_result_is_handed_to_replay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    error = run_replay(
        tmp_path,
        monkeypatch,
        """
        def setup(n):
            return {"model": n * 2}

        def replay(state, n):
            raise ValueError(f"{state['model']} {n}")
        """,
        n=3,
    )
    assert error is not None and error.message == "6 3" and error.phase is Phase.REPLAY


def test_plain_replay_keeps_working(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    error = run_replay(tmp_path, monkeypatch, "def replay(n):\n    assert n > 5\n", n=3)
    assert error is not None and error.type_name == "builtins.AssertionError" and error.phase is Phase.REPLAY
    innermost = error.innermost
    assert innermost is not None
    assert (innermost.function, innermost.line, innermost.lineno) == ("replay", "assert n > 5", 2)
    assert not any(frame.file.endswith("_bootstrap.py") for frame in error.frames)


@pytest.mark.parametrize(
    ("source", "phase"),
    [
        ("def setup():\n    assert False\n\ndef replay(state):\n    pass\n", Phase.SETUP),
        ("raise RuntimeError('at import')\n", Phase.LOAD),
        ("x = 1\n", Phase.LOAD),  # no replay() at all: the case cannot be loaded
    ],
)
def test_the_phase_that_raised_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, phase: Phase
) -> None:
    error = run_replay(tmp_path, monkeypatch, source)
    assert error is not None and error.phase is phase


def test_qualified_function_names_and_public_aliases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    error = run_replay(
        tmp_path,
        monkeypatch,
        """
        import pickle

        class Model:
            def forward(self):
                raise pickle.PicklingError("cannot pickle")

        def replay():
            Model().forward()
        """,
    )
    assert error is not None
    assert error.type_name == "_pickle.PicklingError"
    assert "pickle.PicklingError" in error.aliases
    assert [frame.function for frame in error.frames][:2] == ["replay", "Model.forward"]
    assert Signature("pickle.PicklingError").matches(error)


def test_a_missing_module_is_reported_with_its_providers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = run_replay(tmp_path, monkeypatch, "def replay():\n    import no_such_module_here\n")
    assert missing is not None and missing.missing_module is not None
    assert missing.missing_module.name == "no_such_module_here"
    assert missing.missing_module.providers == () and missing.missing_module.imported_by is None
    # A submodule of an installed package: reported with the distribution that provides the package.
    sub = run_replay(tmp_path, monkeypatch, "def replay():\n    import packaging.no_such_submodule\n")
    assert sub is not None and sub.missing_module is not None
    assert sub.missing_module.name == "packaging.no_such_submodule"
    assert sub.missing_module.providers == ("packaging",)
