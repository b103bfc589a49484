"""Outcome classes for a probe and the pure rules that assign one to what a probe observed."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from harness.signature import RaisedError, Signature


class Outcome(enum.Enum):
    """What one probe of one case in one environment found."""

    REPRODUCED = "REPRODUCED"
    PASSED = "PASSED"
    DIFFERENT_ERROR = "DIFFERENT_ERROR"
    UNRESOLVABLE = "UNRESOLVABLE"
    INSTALL_FAILED = "INSTALL_FAILED"
    TIMEOUT = "TIMEOUT"
    CRASHED = "CRASHED"

    @property
    def is_usable(self) -> bool:
        """Whether the case actually ran to a verdict about the failure (bisection treats others as skips)."""
        return self in (Outcome.REPRODUCED, Outcome.PASSED, Outcome.DIFFERENT_ERROR)


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


class InstallStage(enum.Enum):
    RESOLVE = "resolve"
    INSTALL = "install"


# uv prints this line whenever the resolver proved the request impossible, as opposed to failing to fetch.
_NO_SOLUTION = re.compile(r"No solution found when resolving dependencies|requirements are unsatisfiable")


def classify_install_failure(stage: InstallStage, installer_output: str) -> Verdict:
    """UNRESOLVABLE only when the resolver proved it; every other failure to build is INSTALL_FAILED."""
    message = summarize_installer_output(installer_output)
    if stage is InstallStage.RESOLVE and _NO_SOLUTION.search(installer_output):
        return Verdict(Outcome.UNRESOLVABLE, message)
    return Verdict(Outcome.INSTALL_FAILED, message)


def summarize_installer_output(output: str, *, max_lines: int = 12) -> str:
    """The installer's own explanation, minus progress chatter, bounded so that records stay small.

    When the resolver explains a conflict ("Because x depends on y ..."), that explanation leads, folded to
    one line, since it is what a reader needs first (the summaries show only the first line).
    """
    # uv names the throw-away project that carries the requested pins; say what it means instead.
    output = output.replace("harness-probe depends on", "the probe pins")
    because = _RESOLVER_REASON.search(output)
    if because:
        reason = " ".join(because.group(0).replace("╰─▶", " ").split())
        return reason + "\n" + _plain_summary(output, max_lines)
    return _plain_summary(output, max_lines)


_RESOLVER_REASON = re.compile(r"Because .*?(?:unsatisfiable|cannot be used)\.", re.DOTALL)


def _plain_summary(output: str, max_lines: int) -> str:
    lines = [
        line.rstrip()
        for line in output.splitlines()
        if line.strip() and not line.lstrip().startswith(("Resolved ", "Prepared ", "Installed ", "Using "))
    ]
    if "error:" in output:
        start = next(i for i, line in enumerate(lines) if "error:" in line)
        lines = lines[start:]
    return "\n".join(lines[:max_lines])
