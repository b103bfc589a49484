"""The one place the harness starts other programs: a run with a timeout that kills the whole group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import CommandNotFoundError


@dataclass(frozen=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    @property
    def output(self) -> str:
        return f"{self.stdout}\n{self.stderr}".strip()


def run(
    argv: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    stdin: str | None = None,
) -> Completed:
    """Run a program to completion, capturing its output; never raises for a non-zero status.

    The child gets its own session so that a timeout kills everything it spawned (a replay that forks
    workers, a build backend), not just the immediate process.
    """
    args = tuple(str(part) for part in argv)
    started = time.monotonic()
    try:
        child = subprocess.Popen(
            args,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
    except FileNotFoundError:
        raise CommandNotFoundError(f"'{args[0]}' is not installed or not on PATH") from None
    try:
        stdout, stderr = child.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(child)
        stdout, stderr = child.communicate()
        return Completed(args, child.returncode, stdout, stderr, time.monotonic() - started, timed_out=True)
    except BaseException:
        # Ctrl-C or an error in the parent: never leave an orphaned process group behind.
        _kill_group(child)
        child.wait()
        raise
    return Completed(args, child.returncode, stdout, stderr, time.monotonic() - started)


def _kill_group(child: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)


def start_worker(argv: Sequence[str | Path]) -> subprocess.Popen[str]:
    """Start a long-lived helper that speaks JSON lines on stdin/stdout (the fork-server worker)."""
    args = [str(part) for part in argv]
    try:
        return subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1
        )
    except FileNotFoundError:
        raise CommandNotFoundError(f"'{args[0]}' is not installed or not on PATH") from None
