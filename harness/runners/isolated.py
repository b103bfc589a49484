"""Isolated mode: a fresh interpreter per probe, the case's only cost being its own imports and work."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from harness import process
from harness.environments.interface import Environment
from harness.model.case import Case, Parameters
from harness.model.outcome import RunObservation
from harness.model.signature import Frame, MissingModule, Phase, RaisedError
from harness.runners.interface import CaseRunner, RunResult

BOOTSTRAP = Path(__file__).resolve().parent / "_bootstrap.py"


def read_bootstrap_report(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def raised_error_from(report: dict[str, Any]) -> RaisedError | None:
    error = report.get("error")
    if not isinstance(error, dict):
        return None
    phase = error.get("phase", Phase.REPLAY.value)
    return RaisedError(
        type_name=str(error.get("type", "")),
        message=str(error.get("message", "")),
        traceback_tail=str(error.get("traceback_tail", "")),
        type_chain=tuple(str(name) for name in error.get("type_chain", [])),
        aliases=tuple(str(name) for name in error.get("aliases", [])),
        frames=tuple(_frame(item) for item in error.get("frames", []) if isinstance(item, dict)),
        phase=Phase(phase) if phase in {p.value for p in Phase} else Phase.REPLAY,
        missing_module=_missing_module(error.get("missing_module")),
    )


def _frame(item: dict[str, Any]) -> Frame:
    lineno = item.get("lineno", 0)
    return Frame(
        file=str(item.get("file", "")),
        function=str(item.get("function", "")),
        line=str(item.get("line", "")),
        lineno=lineno if isinstance(lineno, int) else 0,
    )


def _missing_module(item: object) -> MissingModule | None:
    if not isinstance(item, dict) or not item.get("name"):
        return None
    importer = item.get("imported_by")
    distribution = item.get("importer_distribution")
    return MissingModule(
        name=str(item["name"]),
        providers=tuple(str(name) for name in item.get("providers", [])),
        imported_by=None if importer is None else str(importer),
        importer_distribution=None if distribution is None else str(distribution),
    )


class IsolatedRunner(CaseRunner):
    def __init__(self, environ: dict[str, str] | None = None) -> None:
        # -I keeps the harness's own PYTHONPATH and user site out of the target environment.
        self.environ = environ

    def run(self, environment: Environment, case: Case, parameters: Parameters, *, run_index: int = 0) -> RunResult:
        with tempfile.TemporaryDirectory(prefix="harness-probe-") as scratch:
            report_path = Path(scratch) / "report.json"
            completed = process.run(
                [
                    environment.python_executable,
                    "-I",
                    BOOTSTRAP,
                    case.replay_file,
                    json.dumps(dict(parameters)),
                    report_path,
                    str(case.timeout_seconds),
                    str(os.getpid()),  # the replay's watchdog ends it if this process dies
                    str(run_index),
                ],
                cwd=Path(scratch),
                env=self.environ,
                timeout=case.timeout_seconds,
            )
            report = read_bootstrap_report(report_path)
        observation = RunObservation(
            returncode=completed.returncode,
            timed_out=completed.timed_out,
            completed=report is not None,
            error=raised_error_from(report) if report else None,
            stderr_tail=completed.stderr[-2000:],
        )
        return RunResult(
            observation=observation,
            seconds=completed.seconds,
            python_full=str(report.get("python_full")) if report else None,
            platform=str(report.get("platform")) if report else None,
            modules=tuple(report.get("modules", ())) if report else (),
        )
