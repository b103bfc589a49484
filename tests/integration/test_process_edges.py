"""The one subprocess wrapper and the bootstrap, against programs and replays that misbehave."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness import process
from harness.runners.isolated import BOOTSTRAP, raised_error_from, read_bootstrap_report

pytestmark = pytest.mark.integration


def test_a_left_behind_child_holding_stdout_neither_delays_nor_outlives_the_run(tmp_path: Path) -> None:
    marker = tmp_path / "grandchild-alive"
    script = textwrap.dedent(
        f"""
        import os, sys, time
        if os.fork() == 0:
            time.sleep(30)                      # keeps the inherited stdout open
            open({str(marker)!r}, "w").close()  # never reached: the run ends the whole group
            os._exit(0)
        print("done", flush=True)
        """
    )
    started = time.monotonic()
    completed = process.run([sys.executable, "-c", script], timeout=20)
    assert not completed.timed_out
    assert completed.ok and completed.stdout.strip() == "done"
    assert time.monotonic() - started < 10
    time.sleep(0.5)
    assert not marker.exists()


def test_a_timeout_kills_the_whole_group(tmp_path: Path) -> None:
    completed = process.run([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
    assert completed.timed_out and not completed.ok


def test_output_is_decoded_leniently(tmp_path: Path) -> None:
    completed = process.run([sys.executable, "-c", "import sys; sys.stdout.buffer.write(b'ok \\xff')"], timeout=20)
    assert completed.stdout == "ok \ufffd"


def replay_report(tmp_path: Path, body: str) -> dict[str, object]:
    replay = tmp_path / "replay.py"
    replay.write_text(textwrap.dedent(body), encoding="utf-8")
    report = tmp_path / "report.json"
    completed = process.run(
        [sys.executable, "-I", BOOTSTRAP, replay, "{}", report, "30", str(os.getpid())], cwd=tmp_path, timeout=60
    )
    found = read_bootstrap_report(report)
    assert found is not None, completed.output
    return found


def test_an_exception_whose_str_raises_is_still_reported_as_raised(tmp_path: Path) -> None:
    report = replay_report(
        tmp_path,
        """
        class Odd(Exception):
            def __str__(self):
                raise RuntimeError("no")

        def replay():
            raise Odd()
        """,
    )
    error = raised_error_from(report)
    assert error is not None and error.type_name.endswith("Odd")
    assert "unprintable Odd" in error.message


def test_surrogates_and_huge_messages_are_made_safe_and_bounded(tmp_path: Path) -> None:
    report = replay_report(
        tmp_path,
        """
        def replay():
            raise ValueError("bad \\udcff byte " + "x" * 20_000_000)
        """,
    )
    error = raised_error_from(report)
    assert error is not None
    assert "\udcff" not in error.message and error.message.startswith("bad ? byte")
    assert len(error.message) < 25_000 and "[cut: 20,000,011 characters in all]" in error.message
    json.dumps(report).encode("utf-8")  # everything in it is encodable
    assert len(json.dumps(report)) < 200_000
