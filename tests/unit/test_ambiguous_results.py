"""An ambiguous bisection through every codec: JSON with no definite ends, Markdown and terminal wording,
known-bad entries with uncertain ranges, and a gate that says undecided (never failed) for them."""

from __future__ import annotations

import datetime
import json
from datetime import UTC

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from harness.bisection.outcome_lines import bisection_summary, exit_status
from harness.bisection.releases import BisectionReport, ReleaseProbe, run_bisection, verdict_text
from harness.bisection.report import known_bad_range, report_to_markdown, stored_bisection
from harness.bisection.search import SearchStatus
from harness.bisection.stored import bisection_from_json, bisection_to_json
from harness.errors import ConfigError
from harness.gate.formats import human_summary, junit_xml, markdown_summary
from harness.gate.policy import GateVerdict, decide, static_findings
from harness.model.known_bad import KnownBadRange, known_bad_from_json, known_bad_to_json, range_from_json
from harness.model.outcome import Outcome
from harness.model.pins import Pin

RELEASES = tuple(Version(f"1.{minor}.0") for minor in range(60))
MISSING = "ModuleNotFoundError: No module named 'packaging'"
FINISHED = datetime.datetime(2025, 1, 2, tzinfo=UTC)


def unusable_run_report(first_bad: int = 30, run: range = range(12, 43), recorded: int = 50) -> BisectionReport:
    """The issue's history in small: releases in ``run`` cannot import, the bug starts inside the run."""

    def probe(version: Version) -> ReleaseProbe:
        index = RELEASES.index(version)
        if index in run:
            return ReleaseProbe(version, Outcome.DIFFERENT_ERROR, detail=f"{MISSING}\n  File x_transformers/attend.py")
        if index >= 55:
            return ReleaseProbe(version, Outcome.PASSED)
        return ReleaseProbe(version, Outcome.REPRODUCED if index >= first_bad else Outcome.PASSED)

    return run_bisection(
        case_id="c",
        package="x-transformers",
        releases=RELEASES,
        probe=probe,
        recorded_bad=RELEASES[recorded],
        clock=lambda: FINISHED,
    )


def test_the_search_is_ambiguous_over_the_whole_run() -> None:
    report = unusable_run_report()
    assert report.regression.status is SearchStatus.AMBIGUOUS
    assert (report.regression.candidates[0], report.regression.candidates[-1]) == (Version("1.12.0"), Version("1.43.0"))
    assert len(report.steps) < 25


def test_json_has_no_definite_first_bad_and_names_the_unusable_with_their_error() -> None:
    data = json.loads(json.dumps(bisection_to_json(stored_bisection(report := unusable_run_report()))))
    regression = data["regression"]
    assert regression["status"] == "ambiguous"
    assert regression["first_bad"] is None and regression["last_good"] is None
    assert regression["candidates"][0] == "1.12.0" and regression["candidates"][-1] == "1.43.0"
    assert regression["unusable"] and all(
        item["outcome"] == "DIFFERENT_ERROR" and item["detail"] == MISSING for item in regression["unusable"]
    )
    assert len(regression["unusable"]) + len(regression["untried"]) == 31
    assert data["fix"]["first_fixed"] == "1.55.0"  # the fix search was exact: its ends stay
    again = bisection_from_json(data)
    assert again.regression is not None and again.regression.after is None
    assert bisection_to_json(again) == data
    assert len(report.regression.unusable) == len(regression["unusable"])


def test_wording_gives_the_count_the_ends_and_the_error_once() -> None:
    report = unusable_run_report()
    text = verdict_text(report, report.regression)
    assert text.startswith("first bad is one of 32 releases (1.12.0 .. 1.43.0); ")
    assert f"could not be tested: DIFFERENT_ERROR: {MISSING}" in text
    summary = bisection_summary(report, None)
    assert summary.count("1.12.0 .. 1.43.0") == 1 and "1.20.0" not in summary  # the list is elided, printed once
    markdown = report_to_markdown(report)
    assert "| first bad 1.43.0" not in markdown and "first seen bad 1.43.0" in markdown
    assert "first bad is one of 32 releases (1.12.0 .. 1.43.0)" in markdown


def test_short_candidate_lists_are_spelled_out() -> None:
    report = unusable_run_report(first_bad=31, run=range(30, 31))
    assert verdict_text(report, report.regression).startswith("first bad is one of 2 releases (1.30.0, 1.31.0); ")


def test_known_bad_entry_blocks_the_confirmed_and_lists_the_uncertain() -> None:
    entry = known_bad_range(unusable_run_report())
    assert entry is not None
    assert (entry.specifier_text, entry.first_bad, entry.first_fixed) == (">=1.43.0,<1.55.0", None, "1.55.0")
    assert entry.uncertain == (SpecifierSet(">=1.12.0,<1.43.0"),)
    file = known_bad_to_json([entry])
    assert file["ranges"][0]["uncertain"] == [">=1.12.0,<1.43.0"]
    assert known_bad_from_json(json.loads(json.dumps(file))) == (entry,)


@pytest.mark.parametrize("bad", [["1.0"], [">=x"], [""], "nope", [None]])
def test_malformed_uncertain_ranges_are_refused(bad: object) -> None:
    data = {"case_id": "c", "package": "p", "specifier": ">=2", "uncertain": bad}
    with pytest.raises(ConfigError, match="uncertain"):
        range_from_json(data)


def gate_on(version: str, strict: bool = False) -> tuple[GateVerdict, tuple[str, ...]]:
    entry = known_bad_range(unusable_run_report())
    assert entry is not None
    found = static_findings([Pin.parse(f"x-transformers=={version}")], [entry])
    decision = decide(found, [], [], datetime.date(2025, 1, 3), strict)
    return decision.verdict, decision.reasons


def test_the_gate_fails_confirmed_releases_and_is_undecided_about_untested_ones() -> None:
    assert gate_on("1.45.0")[0] is GateVerdict.FAILED
    verdict, reasons = gate_on("1.20.0")
    assert verdict is GateVerdict.UNDECIDED
    assert "could not test" in reasons[0] and "undecided" in reasons[0]
    assert gate_on("1.5.0")[0] is GateVerdict.CLEAR
    assert gate_on("1.56.0")[0] is GateVerdict.CLEAR
    assert gate_on("1.20.0", strict=True)[0] is GateVerdict.FAILED


def test_gate_formats_name_an_untested_range() -> None:
    entry = known_bad_range(unusable_run_report())
    assert entry is not None
    found = static_findings([Pin.parse("x-transformers==1.20.0")], [entry])
    decision = decide(found, [], [], datetime.date(2025, 1, 3))
    assert "UNDECIDED (exit code 3)" in human_summary(decision)
    assert 'type="UncertainRange"' in junit_xml(decision) and "<error" in junit_xml(decision)
    assert "untested range x-transformers" in junit_xml(decision)
    assert "| UNDECIDED |" in markdown_summary(decision)


def test_a_confirmed_range_wins_over_an_uncertain_one() -> None:
    entry = KnownBadRange.between("c", "p", "2.0", None)
    overlapping = KnownBadRange(
        entry.case_id, entry.package, entry.specifier, "2.0", None, uncertain=(SpecifierSet(">=1.0"),)
    )
    assert overlapping.uncertain_about(Pin.parse("p==2.1")) is None
    assert overlapping.uncertain_about(Pin.parse("p==1.5")) == SpecifierSet(">=1.0")


def test_an_ambiguous_bisection_exits_3() -> None:
    report = unusable_run_report()
    status, reason = exit_status(report)
    assert status == 3
    assert reason.startswith("regression: ")
    assert MISSING in reason
