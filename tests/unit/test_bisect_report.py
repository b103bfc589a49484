"""The bisection report renderers (JSON, Markdown) and the known-bad ranges file."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from harness.bisection.links import compare_url
from harness.bisection.releases import BisectionReport, ReleaseProbe, run_bisection
from harness.bisection.report import known_bad_range, report_to_markdown, stored_bisection
from harness.bisection.search import SearchStatus
from harness.bisection.stored import (
    StoredBisection,
    bisection_from_json,
    bisection_to_json,
)
from harness.bisection.stored_commits import StoredCommit, StoredCommitProbe, StoredCommits
from harness.errors import ConfigError
from harness.index.interface import Release
from harness.model.known_bad import (
    known_bad_from_json,
    known_bad_to_json,
    merge_known_bad,
    range_from_json,
    range_to_json,
)
from harness.model.outcome import Outcome
from harness.model.pins import Pin

XT = tuple(Version(text) for text in [f"1.42.{i}" for i in range(15, 27)] + [f"1.43.{i}" for i in range(4)])
FINISHED = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
DATES = {version: datetime(2024, 11, 1 + i, 12, tzinfo=UTC) for i, version in enumerate(XT)}
REPO = "https://github.com/lucidrains/x-transformers"
NASTY = "EinopsError: a | b `c` <script>alert(1)</script> & *bold* [x](y)\nsecond line"


def make_report(
    first_bad: str = "1.42.21",
    first_fixed: str | None = "1.43.2",
    overrides: Mapping[str, Outcome] | None = None,
    known: Mapping[Version, ReleaseProbe] | None = None,
) -> BisectionReport:
    def probe(version: Version) -> ReleaseProbe:
        outcome = (overrides or {}).get(str(version))
        if outcome is None:
            fixed = first_fixed is not None and version >= Version(first_fixed)
            outcome = Outcome.REPRODUCED if version >= Version(first_bad) and not fixed else Outcome.PASSED
        detail = NASTY if outcome is not Outcome.PASSED else "the case ran to completion"
        return ReleaseProbe(version, outcome, seconds=1.25, detail=detail, record_key=f"k{version}")

    return run_bisection(
        case_id="einops-rearrange",
        package="x-transformers",
        releases=XT,
        probe=probe,
        recorded_bad=Version("1.42.21"),
        known=known,
        upload_dates=DATES,
        held=["einops==0.8.0", "torch==2.5.1"],
        clock=lambda: FINISHED,
    )


def report_to_json(report: BisectionReport, **options: Any) -> dict[str, Any]:
    return bisection_to_json(stored_bisection(report, **options))


def known_bad_entry(report: BisectionReport) -> dict[str, Any] | None:
    found = known_bad_range(report)
    return None if found is None else range_to_json(found)


def table_rows(markdown: str, header_start: str) -> list[str]:
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def unescaped_pipes(row: str) -> int:
    return len(re.findall(r"(?<!\\)\|", row))


# --- JSON ---------------------------------------------------------------------------------------------------


def test_json_has_every_probe_the_verdicts_and_the_range() -> None:
    report = make_report()
    data = report_to_json(report, repository_url=REPO, reproduce_command="harness bisect einops-rearrange")
    json.dumps(data)  # serialisable as is

    assert [probe["version"] for probe in data["probes"]] == [str(step.probe.version) for step in report.steps]
    first = data["probes"][0]
    assert first == {
        "search": "regression",
        "verdict": "bad",
        "version": "1.42.21",
        "outcome": "REPRODUCED",
        "seconds": 1.25,
        "reused": False,
        "detail": NASTY,
        "record_key": "k1.42.21",
        "uploaded": DATES[Version("1.42.21")].isoformat(),
    }
    regression = data["regression"]
    assert (regression["status"], regression["last_good"], regression["first_bad"]) == ("found", "1.42.20", "1.42.21")
    assert regression["compare_url"] == f"{REPO}/compare/1.42.20...1.42.21"
    assert regression["uploaded"] == {
        "1.42.20": DATES[Version("1.42.20")].isoformat(),
        "1.42.21": DATES[Version("1.42.21")].isoformat(),
    }
    fix = data["fix"]
    assert (fix["status"], fix["last_bad"], fix["first_fixed"]) == ("found", "1.43.1", "1.43.2")
    assert fix["compare_url"] == f"{REPO}/compare/1.43.1...1.43.2"
    assert data["known_bad"]["specifier"] == ">=1.42.21,<1.43.2"
    assert data["held"] == ["einops==0.8.0", "torch==2.5.1"]
    assert data["reproduce_command"] == "harness bisect einops-rearrange"
    assert data["finished_at"] == FINISHED.isoformat()
    assert data["started_from"] == {"good": None, "bad": "1.42.21"}


def test_json_without_repository_has_no_links_and_upload_dates_can_be_supplied() -> None:
    report = make_report()
    later = {Version("1.42.21"): datetime(2030, 1, 1, tzinfo=UTC)}
    data = report_to_json(report, upload_dates=later)
    assert data["regression"]["compare_url"] is None
    assert data["probes"][0]["uploaded"] == "2030-01-01T00:00:00+00:00"
    assert data["repository_url"] is None


def test_json_not_fixed() -> None:
    data = report_to_json(make_report(first_fixed=None))
    assert data["fix"]["status"] == "not_found"
    assert data["fix"]["last_bad"] == "1.43.3" and data["fix"]["first_fixed"] is None
    assert data["fix"]["compare_url"] is None
    assert data["known_bad"]["specifier"] == ">=1.42.21"


# --- Markdown -----------------------------------------------------------------------------------------------


def test_markdown_lists_every_probe_with_its_fields() -> None:
    report = make_report(overrides={"1.42.20": Outcome.INSTALL_FAILED})
    markdown = report_to_markdown(report, repository_url=REPO, reproduce_command="harness bisect einops-rearrange")
    rows = table_rows(markdown, "| # |")
    assert len(rows) == len(report.steps)
    for number, (row, step) in enumerate(zip(rows, report.steps, strict=True), start=1):
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]]
        assert cells[:8] == [
            str(number),
            step.search.value,
            str(step.probe.version),
            DATES[step.probe.version].strftime("%Y-%m-%d"),
            step.probe.outcome.value,
            step.verdict.value,
            "1.2",
            "no",
        ]
    # Only the confirmed-bad releases are blocked; the one that could not be tested is uncertain.
    assert "`>=1.42.21,<1.43.2`" in markdown
    assert "Uncertain (could not be tested; the gate says undecided, not failed, for these): `>=1.42.20,<1.42.21`" in (
        markdown
    )
    assert "last seen good 1.42.19 (2024-11-05)" in markdown  # the nearest good seen, with its upload date
    assert f"]({REPO}/compare/1.42.19...1.42.21)" in markdown
    assert (
        "first bad is one of 2 releases (1.42.20, 1.42.21); 1 could not be tested: INSTALL_FAILED: EinopsError"
        in markdown
    )
    assert "| first bad 1.42.21" not in markdown
    assert "bare version" in markdown
    assert "```\nharness bisect einops-rearrange\n```" in markdown
    assert "## Notes" in markdown and "could not be used (INSTALL_FAILED)" in markdown


def test_markdown_escapes_what_came_from_exceptions() -> None:
    markdown = report_to_markdown(make_report())
    assert "<script>" not in markdown
    assert "&lt;script>" in markdown and "<script" not in markdown
    assert "a \\| b \\`c\\`" in markdown
    assert "second line" not in markdown  # only the first line of a detail goes in a cell
    for row in table_rows(markdown, "| # |"):
        assert unescaped_pipes(row) == 10  # nine cells: a pipe injected by a message would add one


def test_markdown_without_new_probes_shows_what_was_known() -> None:
    first = make_report()
    known = {step.probe.version: step.probe for step in first.steps}
    second = make_report(known=known)
    markdown = report_to_markdown(second)
    assert second.steps == ()
    assert "No probes were needed" in markdown
    prior_rows = table_rows(markdown, "| version |")
    assert len(prior_rows) == len(known)
    assert all(unescaped_pipes(row) == 6 for row in prior_rows)


def test_markdown_reproduce_command_fence_outlasts_backticks() -> None:
    markdown = report_to_markdown(make_report(), reproduce_command="echo ```x```")
    assert "````\necho ```x```\n````" in markdown


def test_markdown_without_reproduction() -> None:
    def passes(version: Version) -> ReleaseProbe:
        return ReleaseProbe(version, Outcome.PASSED)

    report = run_bisection(
        case_id="c", package="p", releases=XT, probe=passes, bad=Version("1.42.21"), clock=lambda: FINISHED
    )
    markdown = report_to_markdown(report)
    assert "Known-bad range: none" in markdown
    assert "invalid anchor" in markdown
    assert known_bad_entry(report) is None
    assert report_to_json(report)["known_bad"] is None


# --- compare links ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/lucidrains/x-transformers", f"{REPO}/compare/1.0...1.1"),
        ("https://github.com/lucidrains/x-transformers/", f"{REPO}/compare/1.0...1.1"),
        ("https://github.com/lucidrains/x-transformers.git", f"{REPO}/compare/1.0...1.1"),
        ("http://www.github.com/lucidrains/x-transformers", f"{REPO}/compare/1.0...1.1"),
        ("https://gitlab.com/group/project", "https://gitlab.com/group/project/-/compare/1.0...1.1"),
        (
            "https://codeberg.org/lucidrains/x-transformers",
            "https://codeberg.org/lucidrains/x-transformers/compare/1.0...1.1",
        ),
        ("https://example.org/group/project", None),
        ("https://github.com/lucidrains", None),
        ("https://github.com/a/b/tree/main", None),
        ("git@github.com:lucidrains/x-transformers.git", None),
    ],
)
def test_compare_url(url: str, expected: str | None) -> None:
    assert compare_url(url, Version("1.0"), Version("1.1")) == expected


# --- known-bad ranges ---------------------------------------------------------------------------------------


def test_known_bad_entry() -> None:
    entry = known_bad_entry(make_report())
    assert entry == {
        "case_id": "einops-rearrange",
        "package": "x-transformers",
        "specifier": ">=1.42.21,<1.43.2",
        "first_bad": "1.42.21",
        "first_fixed": "1.43.2",
        "found_at": FINISHED.isoformat(),
        "uncertain": [],
    }
    specifier = SpecifierSet(entry["specifier"])
    assert [str(v) for v in XT if v in specifier] == [f"1.42.{i}" for i in range(21, 27)] + ["1.43.0", "1.43.1"]


def test_known_bad_entry_blocks_only_confirmed_releases_and_lists_the_untested() -> None:
    entry = known_bad_entry(make_report(overrides={"1.42.20": Outcome.UNRESOLVABLE}, first_fixed=None))
    assert entry is not None
    # The step is at 1.42.20 or 1.42.21: only 1.42.21 on is confirmed, and no end is definite.
    assert (entry["specifier"], entry["first_bad"], entry["first_fixed"]) == (">=1.42.21", None, None)
    assert entry["uncertain"] == [">=1.42.20,<1.42.21"]
    assert range_from_json(entry).uncertain_about(Pin.parse("x-transformers==1.42.20")) is not None


def entry(case_id: str, package: str, specifier: str) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "package": package,
        "specifier": specifier,
        "first_bad": None,
        "first_fixed": None,
        "found_at": "",
    }


def test_merge_into_nothing() -> None:
    new = entry("a", "x-transformers", ">=1")
    assert merge_known_bad(None, new) == {"schema": 1, "ranges": [new]}


def test_merge_replaces_the_same_case_and_package_only() -> None:
    existing = {
        "schema": 1,
        "ranges": [
            entry("a", "x-transformers", ">=1"),
            entry("a", "einops", ">=0.7"),
            entry("b", "x-transformers", ">=2"),
        ],
    }
    snapshot = json.dumps(existing)
    merged = merge_known_bad(existing, entry("a", "X_Transformers", ">=3"))
    assert json.dumps(existing) == snapshot  # the input is left alone
    assert [(item["package"], item["case_id"], item["specifier"]) for item in merged["ranges"]] == [
        ("einops", "a", ">=0.7"),
        ("X_Transformers", "a", ">=3"),
        ("x-transformers", "b", ">=2"),
    ]
    assert merged["schema"] == 1


def test_merge_is_idempotent() -> None:
    new = entry("a", "x-transformers", ">=1")
    once = merge_known_bad(None, new)
    assert merge_known_bad(once, new) == once


@pytest.mark.parametrize(
    ("existing", "message"),
    [
        ({"schema": 2, "ranges": []}, "schema 2 is not supported"),
        ({"ranges": []}, "schema None is not supported"),
        ({"schema": 1, "ranges": {"a": 1}}, "must be a list"),
        ({"schema": 1, "ranges": ["x"]}, "must be a list"),
    ],
)
def test_merge_rejects_a_foreign_file(existing: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        merge_known_bad(existing, entry("a", "p", ">=1"))


# --- the report file's codec --------------------------------------------------------------------------------


def full_file() -> StoredBisection:
    releases = [Release(version, DATES[version], yanked=False, requires_python=None) for version in XT]
    stored = stored_bisection(make_report(), releases=releases, repository_url=REPO, reproduce_command="nox -s bisect")
    commits = StoredCommits(
        between=("1.42.20", "1.42.21"),
        status=SearchStatus.FOUND,
        message="the first bad commit is abc",
        first_bad=StoredCommit("abc123", "use einops.pack"),
        candidates=(),
        probes=(StoredCommitProbe("abc123", "REPRODUCED"), StoredCommitProbe("def456", "PASSED")),
    )
    return replace(stored, commits=commits)


def test_the_file_reads_back_as_the_value_it_was_written_from() -> None:
    stored = full_file()
    data = json.loads(json.dumps(bisection_to_json(stored)))
    assert bisection_from_json(data) == stored
    assert bisection_to_json(bisection_from_json(data)) == data
    assert stored.known_bad is not None and stored.known_bad.specifier_text == ">=1.42.21,<1.43.2"
    assert data["releases"][0] == {"version": "1.42.15", "upload_time": DATES[XT[0]].isoformat()}
    assert data["known_bad_range"] == ">=1.42.21,<1.43.2"
    assert data["commits"]["first_bad"] == {"sha": "abc123", "subject": "use einops.pack"}
    assert stored.probes[0].outcome is Outcome.REPRODUCED
    assert stored.regression is not None and stored.regression.after == "1.42.21"


def test_a_report_where_every_release_was_bad_still_round_trips() -> None:
    def reproduces(version: Version) -> ReleaseProbe:
        return ReleaseProbe(version, Outcome.REPRODUCED)

    report = run_bisection(case_id="c", package="p", releases=XT, probe=reproduces, bad=XT[-1], clock=lambda: FINISHED)
    stored = stored_bisection(report)
    # Every release tried was bad: the range starts at the oldest one tried, never "every release" (which the
    # gate's file refuses).
    assert stored.known_bad_range == f">={XT[0]}"
    assert stored.known_bad is not None
    known_bad_from_json(known_bad_to_json([stored.known_bad]))
    assert bisection_from_json(bisection_to_json(stored)) == stored


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "not a JSON object"),
        ({"schema": 2, "case_id": "c"}, "schema 2 is not supported"),
        ({"schema": 1, "kind": "culprit"}, "not a bisection report"),
    ],
)
def test_what_is_not_a_bisection_report_is_refused(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bisection_from_json(data)


def test_an_outcome_from_a_newer_writer_is_kept_as_text() -> None:
    stored = bisection_from_json({"probes": [{"version": "1.0", "outcome": "QUANTUM"}, {"outcome": "PASSED"}]})
    assert [(p.version, p.outcome, p.outcome_text) for p in stored.probes] == [("1.0", None, "QUANTUM")]
