"""The one place the harness starts other programs: a run with a timeout that kills the whole group.

Every child it starts is registered while it runs, so that when the harness is told to stop (Ctrl-C,
SIGTERM) ``stop_all`` ends them at once, from the signal handler, whichever thread started them; a run
interrupted that way raises ``RunInterrupted`` instead of returning a result that an accident produced.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import CommandNotFoundError


class RunInterrupted(BaseException):
    """The harness is stopping: the child was ended by ``stop_all``, so its exit status means nothing."""


_running: dict[int, tuple[subprocess.Popen[str], bool]] = {}
"""pid -> (child, whether it leads its own process group) for every child still running."""
_running_lock = threading.Lock()
_stopping = threading.Event()


def stop_all() -> None:
    """End every running child now: a run's whole process group, a worker by SIGTERM (it ends its own child).

    Safe to call from a signal handler; later runs raise RunInterrupted instead of starting.
    """
    _stopping.set()
    with _running_lock:
        children = list(_running.values())
    for child, own_group in children:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if own_group:
                os.killpg(child.pid, signal.SIGKILL)
            else:
                child.terminate()


def stopping() -> bool:
    return _stopping.is_set()


def resume() -> None:
    """Allow runs again after a stop (an in-process caller, such as a test, that goes on afterwards)."""
    _stopping.clear()


def _register(child: subprocess.Popen[str], *, own_group: bool) -> None:
    with _running_lock:
        _running[child.pid] = (child, own_group)
    if _stopping.is_set():
        stop_all()


def _unregister(child: subprocess.Popen[str]) -> None:
    with _running_lock:
        _running.pop(child.pid, None)


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
    if _stopping.is_set():
        raise RunInterrupted(args[0])
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
    _register(child, own_group=True)
    try:
        try:
            stdout, stderr = child.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(child)
            stdout, stderr = child.communicate()
            timed_out = True
        else:
            timed_out = False
    except BaseException:
        # Ctrl-C or an error in the parent: never leave an orphaned process group behind.
        _kill_group(child)
        child.wait()
        raise
    finally:
        _unregister(child)
    if _stopping.is_set():
        raise RunInterrupted(args[0])
    return Completed(args, child.returncode, stdout, stderr, time.monotonic() - started, timed_out=timed_out)


def _kill_group(child: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)


def start_worker(argv: Sequence[str | Path]) -> subprocess.Popen[str]:
    """Start a long-lived helper that speaks JSON lines on stdin/stdout (the fork-server worker)."""
    args = [str(part) for part in argv]
    if _stopping.is_set():
        raise RunInterrupted(args[0])
    try:
        worker = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1
        )
    except FileNotFoundError:
        raise CommandNotFoundError(f"'{args[0]}' is not installed or not on PATH") from None
    _register(worker, own_group=False)
    return worker


def forget_worker(worker: subprocess.Popen[str]) -> None:
    """The worker has exited; ``stop_all`` need not reach it any more."""
    _unregister(worker)
