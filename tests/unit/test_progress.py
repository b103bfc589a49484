"""Progress reporting: the ETA arithmetic, the CI line format and the terminal's single rewritten line."""

from __future__ import annotations

import io
from collections import Counter

import pytest

from harness.model.outcome import Outcome
from harness.model.pins import Pin
from harness.reports.progress import (
    LineProgress,
    ProgressReporter,
    TerminalProgress,
    eta_seconds,
    format_duration,
    probe_label,
    progress_for,
    shorten_middle,
    summary_line,
)

LABEL = "x-transformers==1.42.21,einops==0.8.0,torch==2.13.0"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TerminalStream(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("durations", "remaining", "parallel", "expected"),
    [
        ([], 5, 1, None),
        ([], 0, 1, 0.0),
        ([10.0], 0, 1, 0.0),
        ([10.0], -1, 1, 0.0),
        ([10.0], 3, 1, 30.0),
        ([10.0, 20.0, 30.0], 4, 1, 80.0),
        ([1.0, 100.0, 2.0], 2, 1, 4.0),  # one slow download does not drag the estimate
        ([4.0, 6.0], 2, 1, 10.0),  # even count: the mean of the middle two
        ([10.0], 5, 2, 30.0),  # 5 probes on 2 workers take 3 rounds
        ([10.0], 4, 2, 20.0),
        ([10.0], 3, 0, 30.0),  # a nonsensical worker count is read as one
    ],
)
def test_eta_is_the_median_duration_times_the_rounds_left(
    durations: list[float], remaining: int, parallel: int, expected: float | None
) -> None:
    assert eta_seconds(durations, remaining, parallel=parallel) == expected


@pytest.mark.parametrize(
    ("seconds", "whole", "expected"),
    [
        (0.0, False, "0.0s"),
        (12.34, False, "12.3s"),
        (59.94, False, "59.9s"),
        (12.1, True, "13s"),
        (60.0, False, "1m00s"),
        (80.0, True, "1m20s"),
        (79.2, True, "1m20s"),
        (3599.0, False, "59m59s"),
        (3600.0, False, "1h00m"),
        (7500.0, False, "2h05m"),
    ],
)
def test_format_duration(seconds: float, whole: bool, expected: str) -> None:
    assert format_duration(seconds, whole=whole) == expected


@pytest.mark.parametrize(
    ("text", "room", "expected"),
    [
        ("abcdef", 10, "abcdef"),
        ("abcdef", 6, "abcdef"),
        ("abcdef", 5, "ab…ef"),
        ("abcdefg", 4, "ab…g"),
        ("abcdef", 1, "…"),
        ("abcdef", 0, ""),
    ],
)
def test_shorten_middle(text: str, room: int, expected: str) -> None:
    assert shorten_middle(text, room) == expected
    assert len(shorten_middle(text, room)) <= max(room, 0)


def test_probe_label_keeps_the_order_given() -> None:
    pins = [Pin.of("x-transformers", "1.42.21"), Pin.of("einops", "0.8.0"), Pin.of("torch", "2.13.0")]
    assert probe_label(pins) == LABEL


def test_summary_line_counts_outcomes_in_their_canonical_order() -> None:
    counts = Counter({Outcome.PASSED: 8, Outcome.REPRODUCED: 6, Outcome.DIFFERENT_ERROR: 2})
    assert summary_line(counts, 3, 192.0) == "16 probes in 3m12s: 6 REPRODUCED, 8 PASSED, 2 DIFFERENT_ERROR (3 reused)"
    assert summary_line(Counter({Outcome.PASSED: 1}), 0, 1.0) == "1 probe in 1.0s: 1 PASSED"
    assert summary_line(Counter(), 0, 0.0) == "0 probes in 0.0s"


def run_events(reporter: ProgressReporter, clock: FakeClock) -> None:
    reporter.start(4)
    for label, outcome, seconds, reused in [
        ("a==1", Outcome.REPRODUCED, 12.3, False),
        ("a==2", Outcome.PASSED, 0.0, True),
        ("a==3", Outcome.PASSED, 20.0, False),
        ("a==4", Outcome.UNRESOLVABLE, 1.5, False),
    ]:
        reporter.probe_started(label)
        clock.now += seconds
        reporter.probe_finished(label, outcome, seconds, reused)
    reporter.finish()


def test_line_progress_writes_one_line_per_finished_probe_and_a_summary() -> None:
    stream, clock = io.StringIO(), FakeClock()
    run_events(LineProgress(stream, clock=clock), clock)
    assert stream.getvalue().splitlines() == [
        "[1/4] REPRODUCED a==1 (12.3s)",
        "[2/4] PASSED a==2 (reused)",
        "[3/4] PASSED a==3 (20.0s)",
        "[4/4] UNRESOLVABLE a==4 (1.5s)",
        "4 probes in 33.8s: 1 REPRODUCED, 2 PASSED, 1 UNRESOLVABLE (1 reused)",
    ]


def screen(output: str) -> list[str]:
    """What a terminal shows after ``output``: a carriage return rewinds, later characters overwrite."""
    lines = [""]
    column = 0
    for char in output:
        if char == "\r":
            column = 0
        elif char == "\n":
            lines.append("")
            column = 0
        else:
            line = lines[-1]
            lines[-1] = line[:column] + char + line[column + 1 :]
            column += 1
    return lines


def test_terminal_progress_rewrites_one_line_and_leaves_the_summary() -> None:
    stream, clock = TerminalStream(), FakeClock()
    run_events(TerminalProgress(stream, clock=clock, width=100), clock)
    output = stream.getvalue()
    assert output.count("\n") == 1
    assert screen(output) == ["4 probes in 33.8s: 1 REPRODUCED, 2 PASSED, 1 UNRESOLVABLE (1 reused)", ""]


def test_terminal_progress_shows_the_probe_being_run_with_an_eta_from_fresh_probes_only() -> None:
    stream, clock = TerminalStream(), FakeClock()
    reporter = TerminalProgress(stream, clock=clock, width=120)
    reporter.start(16)
    reporter.probe_started(LABEL)
    assert screen(stream.getvalue())[-1] == f"[1/16] {LABEL} — probing…"  # nothing to estimate from yet
    reporter.probe_finished(LABEL, Outcome.REPRODUCED, 0.0, True)
    reporter.probe_started(LABEL)
    assert screen(stream.getvalue())[-1].rstrip() == f"[2/16] {LABEL} — probing…"  # a reused record is no evidence
    reporter.probe_finished(LABEL, Outcome.REPRODUCED, 10.0, False)
    reporter.probe_started(LABEL)
    # 14 probes left at the median 10s.
    assert screen(stream.getvalue())[-1].rstrip() == f"[3/16] {LABEL} — probing… eta 2m20s"


def test_a_shorter_line_erases_the_end_of_a_longer_one() -> None:
    stream, clock = TerminalStream(), FakeClock()
    reporter = TerminalProgress(stream, clock=clock, width=200)
    reporter.start(2)
    reporter.probe_started("a" * 80)
    reporter.probe_started("b")
    assert screen(stream.getvalue())[-1].rstrip() == "[2/2] b — probing…"


@pytest.mark.parametrize("width", [30, 50, 80])
def test_terminal_lines_never_wrap(width: int) -> None:
    stream, clock = TerminalStream(), FakeClock()
    reporter = TerminalProgress(stream, clock=clock, width=width)
    reporter.start(16)
    reporter.probe_started(LABEL * 3)
    reporter.probe_finished(LABEL * 3, Outcome.DIFFERENT_ERROR, 3.0, False)
    reporter.probe_started(LABEL * 3)
    writes = stream.getvalue().split("\r")[1:]
    assert writes
    assert all(len(write) <= width - 1 for write in writes)
    assert "eta" in writes[-1]  # the label gives way, the estimate stays


def test_unknown_total_shows_a_question_mark_and_no_eta() -> None:
    stream, clock = io.StringIO(), FakeClock()
    reporter = LineProgress(stream, clock=clock)
    reporter.start(None)
    reporter.probe_started("a==1")
    reporter.probe_finished("a==1", Outcome.PASSED, 2.0, False)
    assert stream.getvalue() == "[1/?] PASSED a==1 (2.0s)\n"
    terminal = TerminalStream()
    terminal_reporter = TerminalProgress(terminal, clock=clock)
    terminal_reporter.start(None)
    terminal_reporter.probe_started("a==1")
    terminal_reporter.probe_finished("a==1", Outcome.PASSED, 2.0, False)
    terminal_reporter.probe_started("a==2")
    assert screen(terminal.getvalue())[-1].rstrip() == "[2/?] a==2 — probing…"


def test_the_factory_picks_by_whether_the_stream_is_a_terminal() -> None:
    assert isinstance(progress_for(io.StringIO()), LineProgress)
    chosen = progress_for(TerminalStream(), width=60)
    assert isinstance(chosen, TerminalProgress)
    assert chosen.width == 60
