"""Stopping the harness while a replay hangs: SIGTERM, SIGKILL and Ctrl-C leave nothing running behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.conftest import REPO, FakeProject, make_project

pytestmark = pytest.mark.integration

HANGING = '[packages.fakepkg]\nversions = ["1.0", "1.8"]\n\n[packages.fakedep]\nversions = ["2.0"]\n'
"""1.0 passes quickly (and teaches fork mode the case's imports); 1.8 hangs until its 60 s time limit."""


def processes_mentioning(text: str) -> list[tuple[int, int, str]]:
    """(pid, parent pid, command line) of every live process whose command line mentions ``text``."""
    listing = subprocess.run(["ps", "-ww", "-eo", "pid=,ppid=,stat=,args="], capture_output=True, text=True, check=True)
    found = []
    for line in listing.stdout.splitlines():
        pid, ppid, stat, args = line.split(None, 3)
        if text in args and not stat.startswith("Z") and int(pid) != os.getpid():
            found.append((int(pid), int(ppid), args))
    return found


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.fixture
def hanging_project(tmp_path: Path) -> FakeProject:
    project = make_project(tmp_path, timeout=60)
    project.write_versions(HANGING)
    return project


def start_harness(project: FakeProject, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "harness", "--root", str(project.root), "repro", *args],
        cwd=REPO,
        env=project.environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # signals go to the harness alone, as `kill PID` would send them
    )


def hanging_replay(project: FakeProject) -> Callable[[], bool]:
    marker = str(project.root / "cases" / "fake_case" / "replay.py")
    return lambda: bool(processes_mentioning(marker))


def passed_then_hanging(project: FakeProject) -> Callable[[], bool]:
    """1.0's record is stored and a replay runs: the replay is 1.8's, which hangs."""
    records = project.root / "reports" / "records" / "fake_case"
    running = hanging_replay(project)
    return lambda: len(list(records.glob("*.json"))) == 1 and running()


def finish(harness: subprocess.Popen[str], seconds: float = 20) -> tuple[int, str]:
    output, _ = harness.communicate(timeout=seconds)
    return harness.returncode, output


def test_sigterm_kills_the_replay_writes_summaries_and_exits_143(hanging_project: FakeProject) -> None:
    harness = start_harness(hanging_project)
    assert wait_for(passed_then_hanging(hanging_project), 60), finish(harness)
    started = time.monotonic()
    harness.send_signal(signal.SIGTERM)
    status, output = finish(harness)
    assert status == 143, output
    assert time.monotonic() - started < 10, "the harness waited for the replay's time limit"
    assert wait_for(lambda: not hanging_replay(hanging_project)(), 5), processes_mentioning("fake_case")
    summary = hanging_project.root / "reports" / "fake_case" / "summary.md"
    assert summary.is_file(), output
    # The finished probe is kept and the interrupted one is not recorded as a verdict.
    assert "PASSED" in summary.read_text(encoding="utf-8")
    assert "CRASHED" not in summary.read_text(encoding="utf-8")


def test_sigkill_of_the_harness_cannot_leave_the_replay_running(hanging_project: FakeProject) -> None:
    harness = start_harness(hanging_project)
    assert wait_for(passed_then_hanging(hanging_project), 60), finish(harness)
    harness.kill()
    harness.communicate(timeout=10)
    # The replay's watchdog sees its parent gone and ends its own process group.
    assert wait_for(lambda: not hanging_replay(hanging_project)(), 5), processes_mentioning("fake_case")


def test_ctrl_c_in_fork_mode_stops_at_once(hanging_project: FakeProject) -> None:
    # One job: the first probe (1.0) teaches the imports isolated, so the hanging one (1.8) is forked.
    harness = start_harness(hanging_project, "--mode", "fork", "--preload", "fakedep", "--jobs", "1")

    home = hanging_project.environ["HARNESS_HOME"]  # this test's workers only, not other runs on the machine

    def ours() -> list[tuple[int, int, str]]:
        return [found for found in processes_mentioning("_forkworker.py") if home in found[2]]

    def forked_child_running() -> bool:
        workers = ours()
        pids = {pid for pid, _, _ in workers}
        return any(ppid in pids for _, ppid, _ in workers)  # a worker's forked child runs the probe

    assert wait_for(forked_child_running, 60), finish(harness)
    started = time.monotonic()
    harness.send_signal(signal.SIGINT)
    status, output = finish(harness)
    assert status == 130, output
    assert time.monotonic() - started < 10, output
    assert "Traceback" not in output
    assert wait_for(lambda: not ours(), 5), ours()
