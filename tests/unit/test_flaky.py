"""Repeated runs: FLAKY classification, the bisection rule for flaky releases, boundary confirmation, the A/A
verdict, and the request key and record codec that carry the counts."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.version import Version

from harness.bisection.releases import BisectionReport, ReleaseProbe, known_bad_specifier, run_bisection
from harness.bisection.search import BisectVerdict, SearchStatus, VerdictPolicy
from harness.errors import ConfigError
from harness.flaky.advice import Determinism, advised_repeat, judge
from harness.model.case import parse_case
from harness.model.outcome import Classification, Outcome, Repeats, classify_runs
from harness.model.pins import Pin
from harness.model.probe_record import ProbeRecord, ProbeRequest, record_from_json, record_to_json

R, P, T = Outcome.REPRODUCED, Outcome.PASSED, Outcome.TIMEOUT


def runs(*outcomes: Outcome) -> list[Classification]:
    return [Classification(outcome, outcome.value.lower()) for outcome in outcomes]


@pytest.mark.parametrize(
    ("outcomes", "expected", "counts", "representative"),
    [
        ((R, R, R), R, (3, 3), 0),
        ((P, P), P, (2, 0), 0),
        ((P, R, P, R), Outcome.FLAKY, (4, 2), 1),
        ((R,), R, (1, 1), 0),
        ((P, T, P), T, (3, 0), 1),
        ((T, R), Outcome.FLAKY, (2, 1), 1),
    ],
)
def test_classify_runs(
    outcomes: tuple[Outcome, ...], expected: Outcome, counts: tuple[int, int], representative: int
) -> None:
    judged = classify_runs(runs(*outcomes))
    assert judged.verdict.outcome is expected
    assert (judged.repeats.runs, judged.repeats.reproduced) == counts
    assert judged.representative == representative


def test_flaky_detail_names_the_counts_and_a_partial_problem_says_how_often() -> None:
    assert classify_runs(runs(P, R, P)).verdict.detail == "reproduced in 1/3 runs; reproduced"
    assert classify_runs(runs(P, T, P)).verdict.detail == "timeout (in 1 of 3 runs)"
    with pytest.raises(ValueError, match="at least once"):
        classify_runs([])
    with pytest.raises(ValueError, match="not a count"):
        Repeats(2, 3)


@pytest.mark.parametrize(
    ("threshold", "repeats", "expected"),
    [
        (None, Repeats(6, 1), BisectVerdict.BAD),
        (0.5, Repeats(6, 3), BisectVerdict.BAD),
        (0.5, Repeats(6, 2), BisectVerdict.SKIP),
        (0.5, None, BisectVerdict.SKIP),
    ],
)
def test_flaky_verdict(threshold: float | None, repeats: Repeats | None, expected: BisectVerdict) -> None:
    policy = VerdictPolicy(flaky_threshold=threshold)
    assert policy.verdict(Outcome.FLAKY, repeats) is expected
    assert policy.verdict(Outcome.REPRODUCED) is BisectVerdict.BAD
    assert policy.verdict(Outcome.PASSED) is BisectVerdict.GOOD


RELEASES = tuple(Version(f"1.{minor}") for minor in range(10))


def scripted(table: dict[str, tuple[int, int]]) -> dict[Version, ReleaseProbe]:
    """Outcomes from (reproduced, runs) per release; releases not listed pass every run."""
    outcomes = {}
    for version in RELEASES:
        reproduced, total = table.get(str(version), (0, 6))
        outcome = R if reproduced == total else (P if reproduced == 0 else Outcome.FLAKY)
        outcomes[version] = ReleaseProbe(version, outcome, repeats=Repeats(total, reproduced))
    return outcomes


FLAKY_TABLE = {"1.3": (1, 6), "1.4": (4, 6), "1.5": (6, 6), "1.6": (2, 6)}


def test_a_release_that_reproduced_once_is_bad_by_default() -> None:
    outcomes = scripted(FLAKY_TABLE)
    report = run_bisection(case_id="c", package="p", releases=RELEASES, probe=outcomes.__getitem__, bad=RELEASES[5])
    assert report.regression.boundary == (Version("1.2"), Version("1.3"))
    assert report.fix is not None and report.fix.boundary == (Version("1.6"), Version("1.7"))
    assert any("FLAKY releases counted as bad" in note for note in report.notes)


def test_a_threshold_skips_releases_that_reproduced_too_rarely() -> None:
    outcomes = scripted(FLAKY_TABLE)
    policy = VerdictPolicy(flaky_threshold=0.5)
    report = run_bisection(
        case_id="c", package="p", releases=RELEASES, probe=outcomes.__getitem__, bad=RELEASES[5], policy=policy
    )
    # 1.3 (1/6) is below the threshold: unusable, so the start lies at 1.3 or 1.4; 1.6 (2/6) likewise.
    assert report.regression.status is SearchStatus.AMBIGUOUS
    assert report.regression.candidates == (Version("1.3"), Version("1.4"))
    assert report.fix is not None and report.fix.candidates == (Version("1.6"), Version("1.7"))


def confirmed_run(
    search: dict[str, tuple[int, int]], again: dict[str, tuple[int, int]]
) -> tuple[BisectionReport, list[Version]]:
    first, second = scripted(search), scripted(again)
    asked: list[Version] = []

    def reprobe(version: Version) -> ReleaseProbe:
        asked.append(version)
        return second[version]

    report = run_bisection(
        case_id="c",
        package="p",
        releases=RELEASES,
        probe=first.__getitem__,
        bad=RELEASES[6],
        confirm=reprobe,
        confirm_runs=3,
    )
    return report, asked


def test_confirmation_reprobes_both_sides_of_both_steps_once_each() -> None:
    table = {"1.3": (3, 6), "1.4": (3, 6), "1.5": (3, 6), "1.6": (3, 6)}
    report, asked = confirmed_run(table, table)
    assert sorted(asked) == [Version("1.2"), Version("1.3"), Version("1.6"), Version("1.7")]
    assert report.confirmation is not None and report.confirmation.confirmed
    assert report.regression.boundary == (Version("1.2"), Version("1.3"))


def test_a_contradicting_reprobe_widens_instead_of_naming_a_wrong_boundary() -> None:
    # The search saw 1.3 pass its one run (lucky); probed again it reproduces once in three.
    search = {"1.3": (0, 1), "1.4": (1, 1), "1.5": (1, 1), "1.6": (1, 1)}
    again = {"1.3": (1, 3), "1.4": (2, 3), "1.5": (3, 3), "1.6": (2, 3)}
    report, asked = confirmed_run(search, again)
    assert Version("1.3") in asked
    regression = report.regression
    assert regression.status is SearchStatus.UNCONFIRMED
    assert regression.boundary is None
    assert Version("1.3") in regression.candidates and regression.after == Version("1.3")
    assert "unconfirmed" in regression.message
    assert any("1.3, taken as last good, reproduced in 1/3 runs" in note for note in report.notes)
    lower = known_bad_specifier(regression, report.fix)
    assert lower is not None and Version(lower.split(",")[0].removeprefix(">=")) <= Version("1.3")


@pytest.mark.parametrize(
    ("outcome", "repeats", "determinism", "words"),
    [
        (R, Repeats(6, 6), Determinism.DETERMINISTIC, "deterministic: 6/6 reproduced"),
        (P, Repeats(6, 0), Determinism.DETERMINISTIC, "deterministic: 0/6 reproduced (it passes here)"),
        (Outcome.FLAKY, Repeats(6, 2), Determinism.FLAKY, "flaky: 2/6 reproduced; use --repeat >= 12"),
        (Outcome.INSTALL_FAILED, None, Determinism.UNKNOWN, "could not tell: INSTALL_FAILED"),
    ],
)
def test_check_flaky_verdict(outcome: Outcome, repeats: Repeats | None, determinism: Determinism, words: str) -> None:
    check = judge(outcome, repeats, "why")
    assert check.determinism is determinism
    assert check.message.startswith(words)


def test_advised_repeat() -> None:
    assert advised_repeat(1.0) == 1
    assert advised_repeat(0.5) == 7  # 1 - 0.5**7 > 0.99 > 1 - 0.5**6
    with pytest.raises(ValueError):
        advised_repeat(0)


def request(**changes: object) -> ProbeRequest:
    base: dict[str, object] = {
        "case_id": "c",
        "case_hash": "h",
        "parameters": (),
        "pins": (Pin.of("p", "1.0"),),
        "python": "3.11",
    }
    return ProbeRequest(**(base | changes))  # type: ignore[arg-type]


def test_the_repeat_count_and_sample_are_part_of_the_key_and_one_run_keeps_the_old_key() -> None:
    keys = {request().key, request(repeat=6).key, request(repeat=6, sample=1).key}
    assert len(keys) == 3
    assert request(repeat=1, sample=0).key == request().key


def test_the_record_keeps_its_counts() -> None:
    record = ProbeRecord(request(repeat=6), Outcome.FLAKY, "reproduced in 2/6 runs", repeats=Repeats(6, 2))
    data = record_to_json(record)
    assert (data["runs"], data["reproduced"], data["repeat"]) == (6, 2, 6)
    assert record_from_json(data) == record


def test_repeat_in_case_toml() -> None:
    base = {"id": "c", "packages": ["p"], "signature": {"exception": "E"}}
    assert parse_case(base, directory=Path("c"), content_hash="h").repeat == 1
    assert parse_case(base | {"repeat": 6}, directory=Path("c"), content_hash="h").repeat == 6
    with pytest.raises(ConfigError, match="repeat"):
        parse_case(base | {"repeat": 0}, directory=Path("c"), content_hash="h")
