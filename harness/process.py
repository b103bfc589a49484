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
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from harness.errors import CommandNotFoundError, HarnessError


class RunInterrupted(BaseException):
    """The harness is stopping: the child was ended by ``stop_all``, so its exit status means nothing."""


_running: dict[int, tuple[subprocess.Popen[bytes] | subprocess.Popen[str], bool]] = {}
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


def _register(child: subprocess.Popen[bytes] | subprocess.Popen[str], *, own_group: bool) -> None:
    with _running_lock:
        _running[child.pid] = (child, own_group)
    if _stopping.is_set():
        stop_all()


def _unregister(child: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
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
    # Output goes to files, not pipes, and the run ends when the program exits, not when its output closes:
    # a replay that leaves a forked child holding stdout must not look like a timeout.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as given:
        if stdin is not None:
            given.write(stdin.encode())
            given.seek(0)
        try:
            child = subprocess.Popen(
                args,
                cwd=cwd,
                env=dict(env) if env is not None else None,
                stdin=given if stdin is not None else subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        except FileNotFoundError:
            if cwd is not None and not Path(cwd).is_dir():
                raise HarnessError(f"cannot run {Path(args[0]).name}: its working folder {cwd} is gone") from None
            raise CommandNotFoundError(f"'{args[0]}' is not installed or not on PATH") from None
        _register(child, own_group=True)
        try:
            try:
                child.wait(timeout=timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
            # Whatever it left behind in its process group ends with it.
            _kill_group(child)
            child.wait()
        except BaseException:
            # Ctrl-C or an error in the parent: never leave an orphaned process group behind.
            _kill_group(child)
            child.wait()
            raise
        finally:
            _unregister(child)
        stdout, stderr = _read_back(out), _read_back(err)
    if _stopping.is_set():
        raise RunInterrupted(args[0])
    return Completed(args, child.returncode, stdout, stderr, time.monotonic() - started, timed_out=timed_out)


OUTPUT_LIMIT_BYTES = 16 * 1024 * 1024
"""Past this, only the end of a program's output is kept: the error is at the end."""


def _read_back(handle: IO[bytes]) -> str:
    size = handle.seek(0, os.SEEK_END)
    handle.seek(max(0, size - OUTPUT_LIMIT_BYTES))
    return handle.read().decode("utf-8", errors="replace")


def _kill_group(child: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
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


def stop_worker(worker: subprocess.Popen[str], *, grace: float) -> None:
    """Wait ``grace`` seconds for a worker whose input was closed; then SIGTERM (it ends its own child), then
    SIGKILL. Never waits without bound."""
    try:
        worker.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        worker.terminate()
        try:
            worker.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    _unregister(worker)
