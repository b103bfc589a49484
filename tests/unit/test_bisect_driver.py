"""The bisection driver, with a fake probe backed by an outcome table that counts its calls."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from harness.bisection.driver import ProbeEvent, SearchHandler
from harness.bisection.releases import (
    BisectionReport,
    ReleaseProbe,
    known_bad_specifier,
    run_bisection,
)
from harness.bisection.search import BisectVerdict, Direction, SearchResult, SearchStatus, VerdictPolicy
from harness.errors import ConfigError
from harness.model.outcome import Outcome
from harness.model.pins import Pin

R, P = Outcome.REPRODUCED, Outcome.PASSED
FAIL, DIFF = Outcome.INSTALL_FAILED, Outcome.DIFFERENT_ERROR

# The first case: x-transformers 1.42.21..1.43.1 raise the EinopsError, 1.42.20 and 1.43.2 pass.
XT = tuple(Version(text) for text in [f"1.42.{i}" for i in range(10, 27)] + [f"1.43.{i}" for i in range(6)])
XT_BAD = SpecifierSet(">=1.42.21,<1.43.2")
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


class TableProbe:
    """Answers from a table and remembers every call."""

    def __init__(self, outcomes: Mapping[Version, Outcome]) -> None:
        self.outcomes = dict(outcomes)
        self.calls: list[Version] = []

    def __call__(self, version: Version) -> ReleaseProbe:
        self.calls.append(version)
        outcome = self.outcomes[version]
        detail = "uv: No solution found\nmore" if outcome is FAIL else f"{outcome.value} at {version}"
        return ReleaseProbe(version, outcome, seconds=2.5, detail=detail, record_key=f"key-{version}")


def xt_history(overrides: Mapping[str, Outcome] | None = None) -> dict[Version, Outcome]:
    table = {version: (R if version in XT_BAD else P) for version in XT}
    table.update({Version(text): outcome for text, outcome in (overrides or {}).items()})
    return table


def bisect(probe: Callable[[Version], ReleaseProbe], **kwargs: object) -> BisectionReport:
    arguments: dict[str, object] = {
        "case_id": "einops-rearrange",
        "package": "x-transformers",
        "releases": XT,
        "probe": probe,
        "clock": lambda: NOW,
    }
    arguments.update(kwargs)
    return run_bisection(**arguments)  # type: ignore[arg-type]


def test_first_case_from_the_recorded_environment() -> None:
    probe = TableProbe(xt_history())
    report = bisect(probe, recorded_bad=Version("1.42.21"), held=[Pin.of("einops", "0.8.0"), "torch==2.5.1"])

    assert report.regression.boundary == (Version("1.42.20"), Version("1.42.21"))
    assert report.fix is not None
    assert (report.fix.last_bad, report.fix.first_fixed) == (Version("1.43.1"), Version("1.43.2"))
    assert report.known_bad == ">=1.42.21,<1.43.2"
    assert {v for v in XT if v in SpecifierSet(report.known_bad)} == {v for v in XT if v in XT_BAD}
    assert report.held == ("einops==0.8.0", "torch==2.5.1")
    assert report.bad == Version("1.42.21") and report.good is None
    assert report.finished_at == NOW
    # Every probe is reported once, in the order made, with what it counted as.
    assert [step.probe.version for step in report.steps] == probe.calls
    assert len(set(probe.calls)) == len(probe.calls)
    assert all(step.verdict is VerdictPolicy().verdict(step.probe.outcome) for step in report.steps)
    assert report.steps[0].probe.version == Version("1.42.21")
    assert report.steps[0].search is Direction.REGRESSION
    assert report.steps[-1].search is Direction.FIX
    # The anchor, then strides 1, 2, ... back (the first lands on the last good one); the fix: newest first.
    distance_to_newest = len(XT) - 1 - XT.index(Version("1.42.21"))
    assert len(probe.calls) <= 2 + 1 + math.ceil(math.log2(distance_to_newest + 1)) + 1


def test_second_run_with_every_outcome_supplied_probes_nothing() -> None:
    first_probe = TableProbe(xt_history({"1.42.20": FAIL, "1.43.5": FAIL}))
    first = bisect(first_probe, recorded_bad=Version("1.42.21"))
    known = {step.probe.version: step.probe for step in first.steps}
    assert {Version("1.42.20"), Version("1.43.5")} <= set(known)  # skips are reused too

    second_probe = TableProbe(xt_history({"1.42.20": FAIL, "1.43.5": FAIL}))
    second = bisect(second_probe, recorded_bad=Version("1.42.21"), known=known)

    assert second_probe.calls == []
    assert second.steps == ()
    assert (second.regression, second.fix, second.known_bad) == (first.regression, first.fix, first.known_bad)
    assert [prior.version for prior in second.prior] == sorted(known)
    assert second.outcome_of(Version("1.42.21")) == known[Version("1.42.21")]


def test_supplied_outcomes_are_not_probed_again() -> None:
    known = {Version("1.42.21"): ReleaseProbe(Version("1.42.21"), R, reused=True)}
    probe = TableProbe(xt_history())
    report = bisect(probe, recorded_bad=Version("1.42.21"), known=known)
    assert Version("1.42.21") not in probe.calls
    assert report.regression.first_bad == Version("1.42.21")
    assert report.prior == (known[Version("1.42.21")],)


class StartedEvents(SearchHandler[Version]):
    def __init__(self) -> None:
        self.events: list[ProbeEvent[Version]] = []

    def probe_started(self, event: ProbeEvent[Version]) -> None:
        self.events.append(event)


def test_progress_precedes_every_probe_and_bounds_the_rest() -> None:
    heard = StartedEvents()
    events = heard.events
    probe = TableProbe(xt_history())
    report = bisect(probe, good=Version("1.42.10"), bad=Version("1.43.0"), handler=heard)

    assert [event.item for event in events] == probe.calls
    for search in Direction:
        mine = [event for event in events if event.direction is search]
        assert [event.step for event in mine] == list(range(1, len(mine) + 1))
        for position, event in enumerate(mine):
            assert event.max_remaining >= len(mine) - position
    assert report.known_bad == ">=1.42.21,<1.43.2"


def test_never_fixed_gives_an_open_range() -> None:
    table = {version: (R if version >= Version("1.42.21") else P) for version in XT}
    probe = TableProbe(table)
    report = bisect(probe, bad=Version("1.42.25"))
    assert report.fix is not None
    assert report.fix.status is SearchStatus.NOT_FOUND
    assert report.fix.message == "not fixed as of the newest release 1.43.5"
    assert report.known_bad == ">=1.42.21"
    # The newest release settles it in one probe.
    assert sum(step.search is Direction.FIX for step in report.steps) == 1


def test_no_good_release_before_the_bad_one() -> None:
    table = {version: (R if version < Version("1.43.2") else P) for version in XT}
    report = bisect(TableProbe(table), bad=Version("1.42.21"))
    assert report.regression.status is SearchStatus.NOT_FOUND
    assert report.regression.message == "no good release found before 1.42.10"
    # Confirmed from the oldest release tried: older ones were never seen bad.
    assert report.known_bad == ">=1.42.10,<1.43.2"


def test_good_only_searches_forwards_for_the_first_bad() -> None:
    report = bisect(TableProbe(xt_history()), good=Version("1.42.12"))
    assert report.regression.boundary == (Version("1.42.20"), Version("1.42.21"))
    assert report.fix is not None and report.fix.first_fixed == Version("1.43.2")
    assert report.known_bad == ">=1.42.21,<1.43.2"


def test_bad_release_that_does_not_reproduce_stops_both_searches() -> None:
    probe = TableProbe(xt_history())
    report = bisect(probe, bad=Version("1.43.3"))
    assert probe.calls == [Version("1.43.3")]
    assert report.regression.status is SearchStatus.INVALID_ANCHOR
    assert report.fix is None
    assert report.known_bad is None
    assert any("1.43.3 was given as bad but is good (PASSED: PASSED at 1.43.3)" in note for note in report.notes)


def test_different_error_policy_moves_the_boundary_and_is_noted() -> None:
    table = xt_history({"1.42.19": DIFF, "1.42.20": DIFF})
    default = bisect(TableProbe(table), good=Version("1.42.10"), bad=Version("1.42.25"))
    strict = bisect(
        TableProbe(table),
        good=Version("1.42.10"),
        bad=Version("1.42.25"),
        policy=VerdictPolicy(different_error_is_bad=True),
    )
    assert default.regression.status is SearchStatus.AMBIGUOUS
    assert default.regression.candidates == (Version("1.42.19"), Version("1.42.20"), Version("1.42.21"))
    # Only the confirmed-bad releases are blocked; 1.42.19 and 1.42.20 are uncertain.
    assert default.known_bad == ">=1.42.21,<1.43.2"
    assert default.uncertain == (">=1.42.19,<1.42.21",)
    assert strict.regression.boundary == (Version("1.42.18"), Version("1.42.19"))
    assert "DIFFERENT_ERROR counted as reproducing (policy)" in strict.notes
    assert "DIFFERENT_ERROR counted as reproducing (policy)" not in default.notes


def test_unusable_releases_are_noted_with_their_reason() -> None:
    report = bisect(TableProbe(xt_history({"1.42.20": FAIL})), recorded_bad=Version("1.42.21"))
    assert report.regression.candidates == (Version("1.42.20"), Version("1.42.21"))
    assert "x-transformers 1.42.20 could not be used (INSTALL_FAILED): uv: No solution found" in report.notes
    assert report.known_bad == ">=1.42.21,<1.43.2"
    assert report.uncertain == (">=1.42.20,<1.42.21",)


def test_upload_dates_out_of_version_order_are_noted() -> None:
    dates = {version: datetime(2024, 1, 1 + i, tzinfo=UTC) for i, version in enumerate(XT)}
    dates[Version("1.42.21")] = datetime(2023, 12, 1, tzinfo=UTC)
    report = bisect(TableProbe(xt_history()), recorded_bad=Version("1.42.21"), upload_dates=dates)
    assert report.upload_dates[Version("1.42.21")] == datetime(2023, 12, 1, tzinfo=UTC)
    assert any("1.42.21 was uploaded before 1.42.20" in note for note in report.notes)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"good": Version("1.42.99"), "bad": Version("1.43.0")}, r"1\.42\.99 \(good release\) is not a release"),
        ({"bad": Version("1.44")}, r"1\.44 \(bad release\) is not a release; the nearest releases are 1\.43\.5$"),
        ({"recorded_bad": Version("1.0")}, r"recorded bad release .* nearest releases are 1\.42\.10$"),
        ({"good": Version("1.43.0"), "bad": Version("1.42.21")}, "good release 1.43.0 is not older than bad release"),
        ({"good": Version("1.42.21"), "bad": Version("1.42.21")}, "is not older than"),
        ({"good": Version("1.43.0"), "recorded_bad": Version("1.42.21")}, "not older than recorded bad release"),
        ({}, "nothing to start from"),
    ],
)
def test_invalid_arguments_are_one_line_config_errors(kwargs: dict[str, object], message: str) -> None:
    probe = TableProbe(xt_history())
    with pytest.raises(ConfigError, match=message) as raised:
        bisect(probe, **kwargs)
    assert "\n" not in str(raised.value)
    assert probe.calls == []


def test_no_releases_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no releases to bisect"):
        bisect(TableProbe({}), releases=(), bad=Version("1.0"))


def test_unordered_releases_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="oldest first"):
        bisect(TableProbe(xt_history()), releases=tuple(reversed(XT)), bad=Version("1.42.21"))


def test_probe_answering_for_another_version_is_rejected() -> None:
    def wrong(version: Version) -> ReleaseProbe:
        return ReleaseProbe(Version("0.1"), R)

    with pytest.raises(ValueError, match=r"answered for 0\.1"):
        bisect(wrong, bad=Version("1.42.21"))


def _result(
    direction: Direction,
    status: SearchStatus,
    before: str | None,
    after: str | None,
    candidates: Sequence[str] = (),
) -> SearchResult[Version]:
    return SearchResult(
        direction=direction,
        status=status,
        before=None if before is None else Version(before),
        after=None if after is None else Version(after),
        message="",
        candidates=tuple(map(Version, candidates)),
    )


REG, FIX = Direction.REGRESSION, Direction.FIX
FOUND, AMBIGUOUS, NOT_FOUND, INVALID = (
    SearchStatus.FOUND,
    SearchStatus.AMBIGUOUS,
    SearchStatus.NOT_FOUND,
    SearchStatus.INVALID_ANCHOR,
)


@pytest.mark.parametrize(
    ("regression", "fix", "expected"),
    [
        (_result(REG, FOUND, "1.0", "1.1"), _result(FIX, FOUND, "1.4", "1.5"), ">=1.1,<1.5"),
        # Only what a probe confirmed is blocked: an ambiguous end stops at the releases seen.
        (_result(REG, AMBIGUOUS, "1.0", "1.2", ["1.1", "1.2"]), _result(FIX, FOUND, "1.4", "1.5"), ">=1.2,<1.5"),
        (_result(REG, FOUND, "1.0", "1.1"), _result(FIX, AMBIGUOUS, "1.3", "1.5", ["1.4", "1.5"]), ">=1.1,<1.4"),
        (_result(REG, FOUND, "1.0", "1.1"), _result(FIX, NOT_FOUND, "1.9", None), ">=1.1"),
        (_result(REG, FOUND, "1.0", "1.1"), None, ">=1.1"),
        (_result(REG, NOT_FOUND, None, "1.0"), _result(FIX, FOUND, "1.4", "1.5"), ">=1.0,<1.5"),
        (_result(REG, NOT_FOUND, None, "1.0"), _result(FIX, NOT_FOUND, "1.9", None), ">=1.0"),
        (_result(REG, NOT_FOUND, "1.9", None), None, None),
        (_result(REG, INVALID, None, None), None, None),
    ],
)
def test_known_bad_specifier(
    regression: SearchResult[Version], fix: SearchResult[Version] | None, expected: str | None
) -> None:
    specifier = known_bad_specifier(regression, fix)
    assert specifier == expected
    if specifier is not None:
        assert str(SpecifierSet(specifier))  # always parseable by the gate, and never the empty "every release"


def test_steps_record_verdicts_per_search() -> None:
    report = bisect(TableProbe(xt_history({"1.43.0": FAIL})), good=Version("1.42.10"), bad=Version("1.42.21"))
    skipped = [step for step in report.steps if step.verdict is BisectVerdict.SKIP]
    assert all(step.probe.outcome is FAIL for step in skipped)
    assert {step.search for step in report.steps} == {Direction.REGRESSION, Direction.FIX}
    assert all(step.probe.seconds == 2.5 and not step.probe.reused for step in report.steps)
