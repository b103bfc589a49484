"""What a finished bisection says on the terminal: the verdict in a few lines, and its exit status with why."""

from __future__ import annotations

import re

from packaging.version import Version

from harness.bisection.commit_phase import CommitWindows
from harness.bisection.releases import BisectionReport, unusable_reason, verdict_text
from harness.bisection.search import Direction, SearchResult, SearchStatus


def bisection_summary(report: BisectionReport, commits: CommitWindows | None) -> str:
    """The verdict in a few lines for the terminal; the Markdown report has the evidence."""
    lines = [f"{report.case_id}: {report.package}"]
    lines.append(f"  regression: {verdict_text(report, report.regression)}")
    if report.fix is not None:
        lines.append(f"  fix:        {verdict_text(report, report.fix)}")
    if report.known_bad is not None:
        lines.append(f"  known-bad range: {report.package}{report.known_bad or ' (every release)'}")
    if report.uncertain:
        lines.append(f"  could not be tested (the gate says undecided): {', '.join(report.uncertain)}")
    if report.confirmation is not None:
        confirmation = report.confirmation
        lines.append(
            f"  boundaries confirmed: probed again with {confirmation.runs} runs"
            if confirmation.confirmed
            else f"  boundaries UNCONFIRMED: a re-probe with {confirmation.runs} runs contradicted a step; "
            "raise --repeat"
        )
    if commits is not None and commits.fix_skipped is not None:
        lines.append(f"  fixing commit not bisected: {commits.fix_skipped}")
    for window, label in ((commits.regression, "first bad"), (commits.fix, "first fixed")) if commits else ():
        if window is None:
            continue
        first = window.first_commit
        lines.append(
            f"  {label} commit: {first.sha[:12]} {first.subject}"
            if first
            else f"  commits ({window.direction.value}): {window.result.message}"
        )
    return "\n".join(lines)


INCOMPLETE = 3
"""The exit status of a bisection that did not pin down both boundaries (as the gate's "undecided")."""


_MISSING_MODULE = re.compile(r"No module named '([^'.]+)")


def exit_status(report: BisectionReport) -> tuple[int, str]:
    """0 when both searches found their boundary; else 3 and one line: which search, why, and what would help."""
    for result in (report.regression, report.fix):
        if result is not None and result.status is not SearchStatus.FOUND:
            return INCOMPLETE, f"{result.direction.value}: {_why(report, result)}; {_what_would_help(report, result)}"
    if report.fix is None:
        return INCOMPLETE, "fix: not searched, since the regression search found no bad release to start from"
    return 0, ""


def _why(report: BisectionReport, result: SearchResult[Version]) -> str:
    if result.status is SearchStatus.AMBIGUOUS and result.after is not None:
        side = "below" if result.direction is Direction.REGRESSION else "from"
        reason = unusable_reason(report, result)
        count = len(result.unusable) + len(result.untried)
        return f"{count} releases {side} {result.after} could not be tested{reason}"
    return verdict_text(report, result)


def _what_would_help(report: BisectionReport, result: SearchResult[Version]) -> str:
    tried = (*result.unusable, *([result.anchor] if result.anchor is not None else []))
    details = [found.detail for version in tried if (found := report.outcome_of(version)) is not None]
    missing = next((match.group(1) for detail in details if (match := _MISSING_MODULE.search(detail))), None)
    if missing is not None:
        return f"add {missing!r} to requirements in case.toml (the releases import it without declaring it)"
    if result.status is SearchStatus.INVALID_ANCHOR:
        given = "--good V (a release that does not reproduce)" if result.anchor == report.good else "--bad V"
        return f"give {given} instead, or fix what made the probe fail"
    if result.status is SearchStatus.AMBIGUOUS:
        return "hold other versions with --hold so these releases install, or use --git-repo to bisect commits"
    if result.direction is Direction.REGRESSION and result.after is not None:
        return "give --good V: a release that does not reproduce, if one exists"
    if result.direction is Direction.REGRESSION:
        return "give --bad V: a release that reproduces"
    return (
        "nothing newer to test: the failure is not fixed yet"
        if not result.unusable
        else ("hold other versions with --hold so the newer releases install")
    )
