"""Progress on long runs: one updating line on a terminal, one line per finished probe in CI logs."""

from __future__ import annotations

import math
import shutil
import statistics
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import TextIO

from harness.model.outcome import Outcome
from harness.model.pins import Pin

Clock = Callable[[], float]


class ProgressReporter(ABC):
    """Told about each probe as it starts and ends; says nothing back, so a run never depends on it."""

    @abstractmethod
    def start(self, total: int | None) -> None:
        """``total`` is the number of probes planned, or None when unknown (a bisection in progress)."""

    @abstractmethod
    def probe_started(self, label: str) -> None: ...

    @abstractmethod
    def probe_finished(self, label: str, outcome: Outcome, seconds: float, reused: bool) -> None: ...

    @abstractmethod
    def finish(self) -> None: ...


def probe_label(pins: Iterable[Pin]) -> str:
    """``x-transformers==1.42.21,einops==0.8.0,torch==2.13.0``, in the order given."""
    return ",".join(str(pin) for pin in pins)


def eta_seconds(durations: Sequence[float], remaining: int, *, parallel: int = 1) -> float | None:
    """Time left for ``remaining`` probes: the median finished probe's duration, per batch of ``parallel``.

    The median, because one probe that had to download torch should not inflate the estimate for the rest.
    None until a probe has finished, since there is nothing to estimate from.
    """
    if remaining <= 0:
        return 0.0
    if not durations:
        return None
    return statistics.median(durations) * math.ceil(remaining / max(1, parallel))


def format_duration(seconds: float, *, whole: bool = False) -> str:
    """``12.3s`` (``12s`` if ``whole``), ``1m20s``, ``2h05m``."""
    if seconds < 60:
        return f"{math.ceil(seconds)}s" if whole else f"{seconds:.1f}s"
    total = math.ceil(seconds) if whole else round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s"


def summary_line(counts: Counter[Outcome], reused: int, seconds: float) -> str:
    """``16 probes in 3m12s: 6 REPRODUCED, 8 PASSED, 2 DIFFERENT_ERROR (3 reused)``."""
    total = sum(counts.values())
    parts = ", ".join(f"{counts[outcome]} {outcome.value}" for outcome in Outcome if counts[outcome])
    noun = "probe" if total == 1 else "probes"
    text = f"{total} {noun} in {format_duration(seconds)}" + (f": {parts}" if parts else "")
    return text + (f" ({reused} reused)" if reused else "")


class _Tally(ProgressReporter):
    """Counts shared by both reporters: what started, what finished, how long fresh probes took."""

    def __init__(self, stream: TextIO, clock: Clock, parallel: int) -> None:
        self.stream = stream
        self.clock = clock
        self.parallel = parallel
        self.total: int | None = None
        self.started = 0
        self.finished = 0
        self.reused = 0
        self.durations: list[float] = []
        self.counts: Counter[Outcome] = Counter()
        self.began = clock()

    def start(self, total: int | None) -> None:
        self.total = total
        self.began = self.clock()

    def probe_started(self, label: str) -> None:
        self.started += 1

    def probe_finished(self, label: str, outcome: Outcome, seconds: float, reused: bool) -> None:
        self.finished += 1
        self.counts[outcome] += 1
        if reused:
            # A reused record costs nothing; counting it would make the estimate for real probes too short.
            self.reused += 1
        else:
            self.durations.append(seconds)

    def position(self, done: int) -> str:
        return f"[{done}/{self.total if self.total is not None else '?'}]"

    def eta(self) -> str:
        if self.total is None:
            return ""
        estimate = eta_seconds(self.durations, self.total - self.finished, parallel=self.parallel)
        return "" if estimate is None or estimate <= 0 else f" eta {format_duration(estimate, whole=True)}"

    def summary(self) -> str:
        return summary_line(self.counts, self.reused, self.clock() - self.began)

    def write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


class TerminalProgress(_Tally):
    """One line, rewritten in place with ``\\r``; the summary stays on screen at the end."""

    def __init__(self, stream: TextIO, *, clock: Clock = time.monotonic, width: int = 100, parallel: int = 1) -> None:
        super().__init__(stream, clock, parallel)
        self.width = max(width, 20)
        self.shown = 0

    def probe_started(self, label: str) -> None:
        super().probe_started(label)
        self.show(self.started, label, f" — probing…{self.eta()}")

    def probe_finished(self, label: str, outcome: Outcome, seconds: float, reused: bool) -> None:
        super().probe_finished(label, outcome, seconds, reused)
        took = "reused" if reused else format_duration(seconds)
        self.show(self.finished, label, f" — {outcome.value} ({took}){self.eta()}")

    def finish(self) -> None:
        self.replace(self.summary())
        self.write("\n")
        self.shown = 0

    def show(self, done: int, label: str, tail: str) -> None:
        head = f"{self.position(done)} "
        # A line wider than the terminal wraps, and "\r" then only rewinds its last row.
        room = self.width - 1 - len(head) - len(tail)
        self.replace(head + shorten_middle(label, room) + tail)

    def replace(self, line: str) -> None:
        line = line[: self.width - 1]
        self.write("\r" + line + " " * max(0, self.shown - len(line)))
        self.shown = len(line)


class LineProgress(_Tally):
    """A line per finished probe and a summary: what CI logs and redirected output can show."""

    def __init__(self, stream: TextIO, *, clock: Clock = time.monotonic, parallel: int = 1) -> None:
        super().__init__(stream, clock, parallel)

    def probe_finished(self, label: str, outcome: Outcome, seconds: float, reused: bool) -> None:
        super().probe_finished(label, outcome, seconds, reused)
        took = "reused" if reused else format_duration(seconds)
        self.write(f"{self.position(self.finished)} {outcome.value} {label} ({took})\n")

    def finish(self) -> None:
        self.write(self.summary() + "\n")


def shorten_middle(text: str, room: int) -> str:
    """``text`` cut to ``room`` characters with an ellipsis in the middle, keeping both ends readable."""
    if len(text) <= room:
        return text
    if room <= 1:
        return "…"[:room]
    keep = room - 1
    return text[: (keep + 1) // 2] + "…" + text[len(text) - keep // 2 :]


def progress_for(
    stream: TextIO, *, clock: Clock = time.monotonic, width: int | None = None, parallel: int = 1
) -> ProgressReporter:
    """The terminal reporter when ``stream`` is a terminal, the line reporter otherwise."""
    if stream.isatty():
        columns = width if width is not None else shutil.get_terminal_size(fallback=(100, 24)).columns
        return TerminalProgress(stream, clock=clock, width=columns, parallel=parallel)
    return LineProgress(stream, clock=clock, parallel=parallel)
