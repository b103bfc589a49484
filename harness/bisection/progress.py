"""Search and trial progress shown through the reports' progress reporter: one line per probe in CI logs.

A bisection does not know how many probes it will need, only a bound that shrinks as it goes, so the
per-probe label carries "[regression step 3, at most 4 left]" and an estimate of the time that bound costs.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from harness.bisection.driver import ProbeAnswer, ProbeEvent, SearchHandler
from harness.bisection.search import BisectVerdict
from harness.model.outcome import Outcome
from harness.reports.progress import ProgressReporter, eta_seconds, format_duration

T = TypeVar("T", bound=Hashable)


class CommandProgress:
    """A command's progress over all its probes, started at the first one.

    Started lazily so that a command stopped by a one-line error before probing anything prints only that
    line; ``finish`` prints the summary only when something was probed.
    """

    def __init__(self, reporter: ProgressReporter) -> None:
        self.reporter = reporter
        self.started = False
        self.durations: list[float] = []
        """How long each new (not reused) probe took: what the remaining bound is estimated from."""

    def probe_started(self, label: str) -> None:
        if not self.started:
            self.reporter.start(None)
            self.started = True
        self.reporter.probe_started(label)

    def probe_finished(self, label: str, outcome: Outcome, seconds: float, reused: bool) -> None:
        if not reused:
            self.durations.append(seconds)
        self.reporter.probe_finished(label, outcome, seconds, reused)

    def finish(self) -> None:
        if self.started:
            self.reporter.finish()
            self.started = False

    def __enter__(self) -> CommandProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Also on an error or ^C: the summary of what was probed so far, and the terminal line ended.
        self.finish()


class SearchProgress(SearchHandler[T]):
    """Shows each probe of a search through a CommandProgress; ``describe`` names an item (``fakepkg 1.12``)."""

    def __init__(self, progress: CommandProgress, describe: Callable[[T], str]) -> None:
        self.progress = progress
        self.describe = describe
        self.labels: dict[ProbeEvent[T], str] = {}

    def probe_started(self, event: ProbeEvent[T]) -> None:
        # Labelled once, so the line that ends the probe names it as the line that started it did.
        self.labels[event] = search_label(event, self.describe(event.item), self.progress.durations)
        self.progress.probe_started(self.labels[event])

    def probe_finished(self, event: ProbeEvent[T], answer: ProbeAnswer, verdict: BisectVerdict) -> None:
        label = self.labels.pop(event, None) or search_label(event, self.describe(event.item), [])
        self.progress.probe_finished(label, answer.outcome, answer.seconds, answer.reused)


def search_label(event: ProbeEvent[T], what: str, durations: list[float]) -> str:
    """``[regression step 3, at most 4 left, eta 2m] probing fakepkg 1.12``; no eta before a probe has run."""
    estimate = eta_seconds(durations, event.max_remaining)
    eta = "" if estimate is None or estimate <= 0 else f", eta {format_duration(estimate, whole=True)}"
    return f"[{event.direction.value} step {event.step}, at most {event.max_remaining} left{eta}] probing {what}"
