"""A finished bisection as its two files: the value ``stored.py`` writes as JSON, and Markdown for people."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from harness.bisection.commits import Commit, CommitBisection
from harness.bisection.confirm_report import confirmation_to_markdown, probe_text, stored_confirmation
from harness.bisection.links import commit_url, compare_url, result_compare_url
from harness.bisection.releases import BisectionReport, ProbeStep, ReleaseProbe, verdict_text
from harness.bisection.search import BisectVerdict, Direction, SearchResult, SearchStatus
from harness.bisection.stored import (
    StoredBisection,
    StoredProbe,
    StoredRelease,
    StoredSearch,
    StoredUnusable,
)
from harness.bisection.stored_commits import StoredCommit, StoredCommitProbe, StoredCommits
from harness.index.interface import Release
from harness.markdown import inline
from harness.model.known_bad import KNOWN_BAD_FILE, KnownBadRange

_SIDE_NAMES = {
    Direction.REGRESSION: ("last_good", "first_bad"),
    Direction.FIX: ("last_bad", "first_fixed"),
}
_DETAIL_LIMIT = 200


def report_to_markdown(
    report: BisectionReport,
    *,
    upload_dates: Mapping[Version, datetime] | None = None,
    repository_url: str | None = None,
    reproduce_command: str | None = None,
) -> str:
    """A human-readable report; everything that came from a probe or a user is escaped."""
    dates = _dates(report, upload_dates)
    lines = [
        f"# Bisection of {inline(report.package)} for case {inline(report.case_id)}",
        "",
        f"Finished {report.finished_at.strftime('%Y-%m-%d %H:%M %Z').strip()}.",
        f"Held fixed: {', '.join(map(inline, report.held)) or 'nothing'}.",
        f"Started from: {_anchors_text(report)}.",
        "",
        "## Verdict",
        "",
        "| search | status | before the step | after the step | compare | summary |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for result in (report.regression, report.fix):
        if result is not None:
            lines.append(_result_row(report, result, dates, repository_url))
    lines.append("")
    if report.known_bad is None:
        lines.append("Known-bad range: none (the case did not reproduce).")
    else:
        shown = report.known_bad or "every release"
        where = f"reports/{KNOWN_BAD_FILE}"
        lines.append(f"Known-bad range (machine-readable, as the gate reads it from `{where}`): `{shown}`")
    if report.uncertain:
        shown = ", ".join(f"`{part}`" for part in report.uncertain)
        lines.append(f"Uncertain (could not be tested; the gate says undecided, not failed, for these): {shown}")
    if repository_url is not None and compare_url(repository_url, Version("0"), Version("1")) is not None:
        lines += [
            "",
            "Compare links assume tags named like the bare version (`1.2.3`); "
            "if the project tags `v1.2.3`, add the `v` in the link.",
        ]
    if report.confirmation is not None:
        lines += ["", confirmation_to_markdown(report.confirmation).rstrip("\n")]
    lines += ["", "## Probes", ""]
    if report.steps:
        lines += [
            "| # | search | version | uploaded | outcome | verdict | seconds | reused | detail |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for number, step in enumerate(report.steps, start=1):
            lines.append(
                f"| {number} | {step.search.value} | {_probe_cells(step.probe, dates)} | {step.verdict.value} | "
                f"{step.probe.seconds:.1f} | {'yes' if step.probe.reused else 'no'} | {_detail_cell(step.probe)} |"
            )
    else:
        lines.append("No probes were needed: every outcome was known before this run.")
    if report.prior:

        def verdict(probe: ReleaseProbe) -> BisectVerdict:
            return report.policy.verdict(probe.outcome, probe.repeats)

        lines += [
            "",
            "## Outcomes known before this run",
            "",
            "| version | uploaded | outcome | verdict | detail |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {_probe_cells(probe, dates)} | {verdict(probe).value} | {_detail_cell(probe)} |"
            for probe in report.prior
        ]
    if reproduce_command:
        fence = "`" * max(3, _longest_backtick_run(reproduce_command) + 1)
        lines += ["", "## Reproduce with", "", fence, reproduce_command, fence]
    if report.notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {inline(note)}" for note in report.notes]
    lines += repaired_lines([step.probe for step in report.steps] + list(report.prior))
    return "\n".join(lines) + "\n"


def repaired_lines(probes: Sequence[ReleaseProbe], *, shown: int = 6) -> list[str]:
    """One line per distribution that probes added, with the releases that needed it (elided when many)."""
    by_addition: dict[tuple[str, str | None], list[ReleaseProbe]] = {}
    for probe in probes:
        for repair in probe.repairs:
            by_addition.setdefault((repair.added, repair.imported_by), []).append(probe)
    if not by_addition:
        return []
    lines = ["", "## Repaired probes", ""]
    for (added, imported_by), repaired in by_addition.items():
        versions = sorted({probe.version for probe in repaired})
        named = ", ".join(map(str, versions)) if len(versions) <= shown else f"{versions[0]} .. {versions[-1]}"
        where = f"imported by {imported_by}" if imported_by else "imported by the replay"
        lines.append(
            f"- added {inline(added)} ({inline(where)}, not declared by the release probed) "
            f"to {len(versions)} probe{'s' if len(versions) != 1 else ''}: {inline(named)}"
        )
    return lines


def commits_to_markdown(commits: CommitBisection, *, repository_url: str | None = None) -> str:
    """One window of the commit phase, appended to the report when ``--git-repo`` was given."""
    regression = commits.direction is Direction.REGRESSION
    lines = [
        f"## Commits between {commits.before_release} and {commits.after_release}"
        + ("" if regression else " (the fix)"),
        "",
    ]
    first = commits.first_commit
    if first is not None:
        lines.append(f"{'First bad' if regression else 'First fixed'} commit: {_commit_text(first, repository_url)}")
    else:
        lines.append(inline(commits.result.message))
        lines += [f"- {_commit_text(c, repository_url)}" for c in commits.candidates]
    lines += [
        "",
        "Followed the first-parent line: a merge counts as one commit (`--all-commits` bisects inside merged branches)."
        if commits.first_parent
        else "Every commit between the releases was a candidate, merged branches included.",
    ]
    lines += ["", "| commit | outcome |", "|---|---|"]
    lines += [f"| `{p.commit.sha[:12]}` | {p.outcome.value} |" for p in commits.probes]
    return "\n".join(lines) + "\n"


def _commit_text(commit: Commit, repository_url: str | None) -> str:
    link = None if repository_url is None else commit_url(repository_url, commit.sha)
    sha = f"[`{commit.sha[:12]}`]({link})" if link else f"`{commit.sha[:12]}`"
    date = f" ({commit.authored[:10]})" if commit.authored else ""
    return f"{sha} {inline(commit.subject)}{date}"


def _dates(report: BisectionReport, extra: Mapping[Version, datetime] | None) -> dict[Version, datetime]:
    return {**report.upload_dates, **(extra or {})}


def _day(version: Version | None, dates: Mapping[Version, datetime]) -> str:
    if version is None or version not in dates:
        return ""
    return dates[version].strftime("%Y-%m-%d")


def _anchors_text(report: BisectionReport) -> str:
    parts = []
    if report.good is not None:
        parts.append(f"good {inline(str(report.good))}")
    if report.bad is not None:
        parts.append(f"bad {inline(str(report.bad))}")
    return ", ".join(parts) or "nothing"


def _side_cell(label: str, version: Version | None, dates: Mapping[Version, datetime]) -> str:
    if version is None:
        return "none"
    day = _day(version, dates)
    return f"{label} {inline(str(version))}" + (f" ({day})" if day else "")


def _result_row(
    report: BisectionReport,
    result: SearchResult[Version],
    dates: Mapping[Version, datetime],
    repository_url: str | None,
) -> str:
    before_name, after_name = (name.replace("_", " ") for name in _SIDE_NAMES[result.direction])
    if result.status is SearchStatus.AMBIGUOUS:
        # The ends are only the nearest releases seen on each side; the step itself is among the candidates.
        before_name, after_name = (name.replace(" ", " seen ", 1) for name in (before_name, after_name))
    link = result_compare_url(result, repository_url)
    compare = "" if link is None else f"[{result.before}...{result.after}]({link})"
    return (
        f"| {result.direction.value} | {result.status.value.replace('_', ' ')} | "
        f"{_side_cell(before_name, result.before, dates)} | {_side_cell(after_name, result.after, dates)} | "
        f"{compare} | {inline(verdict_text(report, result))} |"
    )


def _probe_cells(probe: ReleaseProbe, dates: Mapping[Version, datetime]) -> str:
    # Counts only where they tell something: a flaky release, or any release of a repeated case.
    shown = probe_text(probe) if probe.repeats is not None and probe.repeats.runs > 1 else probe.outcome.value
    return f"{inline(str(probe.version))} | {_day(probe.version, dates)} | {shown}"


def _detail_cell(probe: ReleaseProbe) -> str:
    stripped = probe.detail.strip()
    first = stripped.splitlines()[0] if stripped else ""
    if len(first) > _DETAIL_LIMIT:
        first = first[: _DETAIL_LIMIT - 1] + "…"
    return inline(first)


def _longest_backtick_run(text: str) -> int:
    longest = current = 0
    for char in text:
        current = current + 1 if char == "`" else 0
        longest = max(longest, current)
    return longest


# --- the JSON file's value -------------------------------------------------------------------------------------


def stored_bisection(
    report: BisectionReport,
    *,
    releases: Sequence[Release] = (),
    upload_dates: Mapping[Version, datetime] | None = None,
    repository_url: str | None = None,
    reproduce_command: str | None = None,
    commits: CommitBisection | None = None,
    fix_commits: CommitBisection | None = None,
) -> StoredBisection:
    """The file's value for a report; ``upload_dates`` adds to (and overrides) the report's own."""
    dates = {**report.upload_dates, **(upload_dates or {})}
    return StoredBisection(
        case_id=report.case_id,
        package=report.package,
        held=tuple(report.held),
        finished_at=report.finished_at.isoformat(),
        different_error_is_bad=report.policy.different_error_is_bad,
        started_good=_text_of(report.good),
        started_bad=_text_of(report.bad),
        probes=tuple(_step(step, dates) for step in report.steps),
        prior=tuple(_probe(probe, dates) for probe in report.prior),
        regression=_search(report, report.regression, dates, repository_url),
        fix=None if report.fix is None else _search(report, report.fix, dates, repository_url),
        known_bad=known_bad_range(report),
        repository_url=repository_url,
        reproduce_command=reproduce_command,
        notes=tuple(report.notes),
        releases=tuple(
            StoredRelease(str(r.version), r.upload_time.isoformat() if r.upload_time else None) for r in releases
        ),
        known_bad_range=report.known_bad,
        commits=None if commits is None else _commits(commits, repository_url),
        fix_commits=None if fix_commits is None else _commits(fix_commits, repository_url),
        flaky_threshold=report.policy.flaky_threshold,
        confirmation=None if report.confirmation is None else stored_confirmation(report.confirmation),
    )


def known_bad_range(report: BisectionReport) -> KnownBadRange | None:
    """The report's entry for ``reports/known-bad.json``; None when the case did not reproduce at all.

    The ends are named only where a search pinned them down; the specifier holds what was confirmed bad.
    """
    if report.known_bad is None:
        return None
    regression, fix = report.regression, report.fix
    return KnownBadRange(
        case_id=report.case_id,
        package=canonicalize_name(report.package),
        specifier=SpecifierSet(report.known_bad),
        first_bad=_text_of(regression.after if regression.status is SearchStatus.FOUND else None),
        first_fixed=_text_of(fix.after if fix is not None and fix.status is SearchStatus.FOUND else None),
        found_at=report.finished_at.isoformat(),
        uncertain=tuple(SpecifierSet(part) for part in report.uncertain),
    )


def _probe(probe: ReleaseProbe, dates: Mapping[Version, datetime]) -> StoredProbe:
    return StoredProbe(
        version=str(probe.version),
        outcome_text=probe.outcome.value,
        seconds=round(probe.seconds, 3),
        reused=probe.reused,
        detail=probe.detail,
        record_key=probe.record_key,
        uploaded=dates[probe.version].isoformat() if probe.version in dates else None,
    )


def _step(step: ProbeStep, dates: Mapping[Version, datetime]) -> StoredProbe:
    return replace(_probe(step.probe, dates), search=step.search, verdict=step.verdict)


def _search(
    report: BisectionReport, result: SearchResult[Version], dates: Mapping[Version, datetime], repository: str | None
) -> StoredSearch:
    # An ambiguous search has no definite boundary: its ends are left null, the candidates say the rest.
    definite = result.status is not SearchStatus.AMBIGUOUS
    return StoredSearch(
        direction=result.direction,
        status=result.status,
        message=verdict_text(report, result),
        before=_text_of(result.before) if definite else None,
        after=_text_of(result.after) if definite else None,
        candidates=tuple(str(version) for version in result.candidates),
        inconsistent=tuple(str(version) for version in result.inconsistent),
        invalid_anchor=_text_of(result.anchor),
        uploaded=tuple(
            (str(version), dates[version].isoformat())
            for version in (result.before, result.after)
            if version is not None and version in dates
        ),
        compare_url=result_compare_url(result, repository),
        unusable=tuple(_unusable(report, version) for version in result.unusable),
        untried=tuple(str(version) for version in result.untried),
    )


def _unusable(report: BisectionReport, version: Version) -> StoredUnusable:
    found = report.outcome_of(version)
    if found is None:
        return StoredUnusable(str(version), "", "")
    return StoredUnusable(
        str(version), found.outcome.value, found.detail.strip().splitlines()[0] if found.detail.strip() else ""
    )


def _commits(commits: CommitBisection, repository_url: str | None) -> StoredCommits:
    def stored(commit: Commit | None) -> StoredCommit | None:
        if commit is None:
            return None
        link = None if repository_url is None else commit_url(repository_url, commit.sha)
        return StoredCommit(commit.sha, commit.subject, authored=commit.authored or None, url=link)

    first = stored(commits.first_commit)
    regression = commits.direction is Direction.REGRESSION
    return StoredCommits(
        between=(str(commits.before_release), str(commits.after_release)),
        status=commits.result.status,
        message=commits.result.message,
        first_bad=first if regression else None,
        candidates=tuple(c for c in map(stored, commits.candidates) if c is not None),
        probes=tuple(StoredCommitProbe(p.commit.sha, p.outcome.value) for p in commits.probes),
        direction=commits.direction,
        first_fixed=None if regression else first,
        first_parent=commits.first_parent,
    )


def _text_of(version: Version | None) -> str | None:
    return None if version is None else str(version)
