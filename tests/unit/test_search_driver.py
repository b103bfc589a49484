"""The one search driver loop and its events, against a scripted outcome table; and how progress shows them."""

from __future__ import annotations

import itertools

import pytest
from packaging.version import Version

from harness.bisection.driver import Answer, ProbeAnswer, ProbeEvent, SearchHandler, run_search
from harness.bisection.progress import CommandProgress, SearchProgress
from harness.bisection.search import (
    BisectVerdict,
    Direction,
    SearchResult,
    SearchStatus,
    TransitionSearch,
    VerdictPolicy,
)
from harness.model.outcome import Outcome
from harness.reports.progress import ProgressReporter

R, P, D = Outcome.REPRODUCED, Outcome.PASSED, Outcome.DIFFERENT_ERROR
RELEASES = tuple(Version(f"1.{minor}") for minor in range(10))
# 1.0..1.2 pass, 1.3.. reproduce; 1.4 answers from a stored record.
TABLE = {release: (P if release < Version("1.3") else R) for release in RELEASES}


class Recorder(SearchHandler[Version]):
    """Writes down every event, in order."""

    def __init__(self) -> None:
        self.heard: list[tuple[object, ...]] = []
        self.started: list[ProbeEvent[Version]] = []

    def probe_started(self, event: ProbeEvent[Version]) -> None:
        self.started.append(event)
        self.heard.append(("started", event))

    def probe_finished(self, event: ProbeEvent[Version], answer: ProbeAnswer, verdict: BisectVerdict) -> None:
        self.heard.append(("finished", event.item, answer.outcome, answer.reused, verdict))

    def finished(self, result: SearchResult[Version]) -> None:
        self.heard.append(("result", result.status, result.boundary))


def pair_search(**known: BisectVerdict) -> TransitionSearch[Version]:
    return TransitionSearch.start(
        RELEASES,
        Direction.REGRESSION,
        low=Version("1.0"),
        high=Version("1.9"),
        known={Version(text.replace("_", ".")): verdict for text, verdict in known.items()},
    )


def scripted(release: Version) -> Answer:
    return Answer(TABLE[release], seconds=2.0, reused=release == Version("1.4"))


def test_event_sequence_for_a_scripted_table() -> None:
    recorder = Recorder()
    run = run_search(pair_search(), scripted, handler=recorder)

    probed = [Version(text) for text in ("1.9", "1.0", "1.4", "1.2", "1.3")]
    started = recorder.started
    assert [event.item for event in started] == probed
    assert [event.step for event in started] == [1, 2, 3, 4, 5]
    assert all(event.direction is Direction.REGRESSION for event in started)
    # Two anchors and the eight releases between at first; every probe lowers the bound.
    bounds = [event.max_remaining for event in started]
    assert bounds[0] == 10  # a true bound: the eight releases between the anchors may all be unusable
    assert all(later < earlier for earlier, later in itertools.pairwise(bounds))
    # Each probe is announced, then answered, before the next one starts; the result comes last, once.
    verdicts = {P: BisectVerdict.GOOD, R: BisectVerdict.BAD}
    expected: list[tuple[object, ...]] = []
    for event in started:
        outcome = TABLE[event.item]
        expected += [
            ("started", event),
            ("finished", event.item, outcome, event.item == Version("1.4"), verdicts[outcome]),
        ]
    expected.append(("result", SearchStatus.FOUND, (Version("1.2"), Version("1.3"))))
    assert recorder.heard == expected
    # The run keeps what the handler heard: events, answers as given, verdicts.
    assert [probed.event for probed in run.probes] == started
    assert [probed.answer for probed in run.probes] == [scripted(release) for release in probed]
    assert [probed.verdict for probed in run.probes] == [verdicts[TABLE[release]] for release in probed]
    assert run.result.boundary == (Version("1.2"), Version("1.3"))


def test_policy_decides_the_verdict() -> None:
    table = {**TABLE, Version("1.4"): D}
    lenient = run_search(pair_search(), lambda release: Answer(table[release]))
    strict = run_search(pair_search(), lambda release: Answer(table[release]), policy=VerdictPolicy(True))
    assert {p.event.item: p.verdict for p in lenient.probes}[Version("1.4")] is BisectVerdict.SKIP
    assert {p.event.item: p.verdict for p in strict.probes}[Version("1.4")] is BisectVerdict.BAD


def test_a_settled_search_probes_nothing_and_still_finishes() -> None:
    recorder = Recorder()
    settled = pair_search(**{"1_0": BisectVerdict.GOOD, "1_9": BisectVerdict.BAD, "1_2": BisectVerdict.GOOD})
    for release in RELEASES[3:9]:
        settled = settled.fold(release, BisectVerdict.BAD)

    def never(release: Version) -> Answer:
        raise AssertionError(f"{release} was probed")

    run = run_search(settled, never, handler=recorder)
    assert run.probes == ()
    assert recorder.heard == [("result", SearchStatus.FOUND, (Version("1.2"), Version("1.3")))]


def test_the_base_handler_hears_everything_and_does_nothing() -> None:
    quiet = run_search(pair_search(), scripted, handler=SearchHandler())
    assert quiet == run_search(pair_search(), scripted)


# --- progress ------------------------------------------------------------------------------------------------


class Reporter(ProgressReporter):
    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def start(self, total: int | None) -> None:
        self.calls.append(("start", total))

    def probe_started(self, label: str) -> None:
        self.calls.append(("started", label))

    def probe_finished(self, label: str, outcome: Outcome, seconds: float, reused: bool) -> None:
        self.calls.append(("finished", label, outcome, seconds, reused))

    def finish(self) -> None:
        self.calls.append(("finish",))


def test_search_progress_lines_carry_the_step_and_the_bound() -> None:
    reporter = Reporter()
    with CommandProgress(reporter) as progress:
        run_search(pair_search(), scripted, handler=SearchProgress(progress, lambda release: f"fakepkg {release}"))

    assert reporter.calls[0] == ("start", None)
    assert reporter.calls[-1] == ("finish",)
    assert reporter.calls[1] == ("started", "[regression step 1, at most 10 left] probing fakepkg 1.9")
    assert reporter.calls[2] == ("finished", reporter.calls[1][1], R, 2.0, False)
    # From the second probe on, the bound is priced at the median probe so far (2s each).
    assert reporter.calls[3] == ("started", "[regression step 2, at most 9 left, eta 18s] probing fakepkg 1.0")
    finished = [call for call in reporter.calls if call[0] == "finished"]
    assert [call[4] for call in finished] == [False, False, True, False, False]
    assert len(finished) == 5
    for started, ended in zip(reporter.calls[1:-1:2], reporter.calls[2:-1:2], strict=True):
        assert started[0] == "started" and ended[0] == "finished" and started[1] == ended[1]


def test_command_progress_says_nothing_until_a_probe_starts() -> None:
    reporter = Reporter()
    with pytest.raises(ValueError, match="before probing"), CommandProgress(reporter):
        raise ValueError("stopped before probing")
    assert reporter.calls == []


def test_command_progress_finishes_once_after_an_error_mid_run() -> None:
    reporter = Reporter()

    def broken(release: Version) -> Answer:
        if release == Version("1.0"):
            raise RuntimeError("uv vanished")
        return scripted(release)

    with pytest.raises(RuntimeError), CommandProgress(reporter) as progress:
        run_search(pair_search(), broken, handler=SearchProgress[Version](progress, str))
    assert [call[0] for call in reporter.calls] == ["start", "started", "finished", "started", "finish"]
