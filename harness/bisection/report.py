"""Pure renderers for a bisection report (JSON, Markdown) and the known-bad ranges file the gate reads."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name
from packaging.version import Version

from harness.bisection.releases import BisectionReport, ProbeOutcome, ProbeStep, known_bad_bounds
from harness.bisection.search import Direction, SearchResult, SearchStatus
from harness.errors import ConfigError
from harness.markdown import inline

REPORT_SCHEMA = 1
KNOWN_BAD_SCHEMA = 1
KNOWN_BAD_FILE = "reports/known-bad.json"
"""Relative to the project root: ``{"schema": 1, "ranges": [known_bad_entry(...), ...]}``."""

_SIDE_NAMES = {
    Direction.REGRESSION: ("last_good", "first_bad"),
    Direction.FIX: ("last_bad", "first_fixed"),
}
_DETAIL_LIMIT = 200


def report_to_json(
    report: BisectionReport,
    *,
    upload_dates: Mapping[Version, datetime] | None = None,
    repository_url: str | None = None,
    reproduce_command: str | None = None,
) -> dict[str, Any]:
    """The whole report as JSON-ready data; ``upload_dates`` adds to (and overrides) the report's own."""
    dates = _dates(report, upload_dates)
    return {
        "schema": REPORT_SCHEMA,
        "kind": "bisection",
        "case_id": report.case_id,
        "package": report.package,
        "held": list(report.held),
        "finished_at": report.finished_at.isoformat(),
        "policy": {"different_error_is_bad": report.policy.different_error_is_bad},
        "started_from": {"good": _text(report.good), "bad": _text(report.bad)},
        "probes": [_step_json(step, dates) for step in report.steps],
        "prior": [_probe_json(probe, dates) for probe in report.prior],
        "regression": _result_json(report.regression, dates, repository_url),
        "fix": None if report.fix is None else _result_json(report.fix, dates, repository_url),
        "known_bad": known_bad_entry(report),
        "repository_url": repository_url,
        "reproduce_command": reproduce_command,
        "notes": list(report.notes),
    }


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
            lines.append(_result_row(result, dates, repository_url))
    lines.append("")
    if report.known_bad is None:
        lines.append("Known-bad range: none (the case did not reproduce).")
    else:
        shown = report.known_bad or "every release"
        lines.append(f"Known-bad range (machine-readable, as the gate reads it from `{KNOWN_BAD_FILE}`): `{shown}`")
    if repository_url is not None and compare_url(repository_url, Version("0"), Version("1")) is not None:
        lines += [
            "",
            "Compare links assume tags named like the bare version (`1.2.3`); "
            "if the project tags `v1.2.3`, add the `v` in the link.",
        ]
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
        verdict = report.policy.verdict
        lines += [
            "",
            "## Outcomes known before this run",
            "",
            "| version | uploaded | outcome | verdict | detail |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {_probe_cells(probe, dates)} | {verdict(probe.outcome).value} | {_detail_cell(probe)} |"
            for probe in report.prior
        ]
    if reproduce_command:
        fence = "`" * max(3, _longest_backtick_run(reproduce_command) + 1)
        lines += ["", "## Reproduce with", "", fence, reproduce_command, fence]
    if report.notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {inline(note)}" for note in report.notes]
    return "\n".join(lines) + "\n"


def known_bad_entry(report: BisectionReport) -> dict[str, Any] | None:
    """The report's entry for ``reports/known-bad.json``; None when the case did not reproduce at all."""
    bounds = known_bad_bounds(report.regression, report.fix)
    if bounds is None or report.known_bad is None:
        return None
    first_bad, first_fixed = bounds
    return {
        "case_id": report.case_id,
        "package": canonicalize_name(report.package),
        "specifier": report.known_bad,
        "first_bad": _text(first_bad),
        "first_fixed": _text(first_fixed),
        "found_at": report.finished_at.isoformat(),
    }


def merge_known_bad(existing: Mapping[str, Any] | None, entry: Mapping[str, Any]) -> dict[str, Any]:
    """The known-bad file with ``entry`` replacing any entry for the same case and package.

    Entries are kept sorted by package then case, so that the file diffs cleanly between runs.
    """
    ranges: list[Mapping[str, Any]] = []
    if existing is not None:
        schema = existing.get("schema")
        if schema != KNOWN_BAD_SCHEMA:
            raise ConfigError(
                f"{KNOWN_BAD_FILE}: schema {schema!r} is not supported (expected {KNOWN_BAD_SCHEMA}); "
                "move the file aside to start a new one"
            )
        found = existing.get("ranges", [])
        if not isinstance(found, list) or not all(isinstance(item, Mapping) for item in found):
            raise ConfigError(f"{KNOWN_BAD_FILE}: 'ranges' must be a list of tables; move the file aside")
        ranges = list(found)
    key = _entry_key(entry)
    merged = [dict(item) for item in ranges if _entry_key(item) != key] + [dict(entry)]
    merged.sort(key=_entry_key)
    return {"schema": KNOWN_BAD_SCHEMA, "ranges": merged}


_COMPARE_FORMS = {
    "github.com": "https://github.com/{path}/compare/{older}...{newer}",
    "www.github.com": "https://github.com/{path}/compare/{older}...{newer}",
    # Forgejo and Gitea (Codeberg) spell it as GitHub does; GitLab puts it under /-/.
    "codeberg.org": "https://codeberg.org/{path}/compare/{older}...{newer}",
    "gitlab.com": "https://gitlab.com/{path}/-/compare/{older}...{newer}",
}


def compare_url(repository_url: str, older: Version, newer: Version) -> str | None:
    """A compare link between two release tags, assuming tags named like the bare version (``1.2.3``).

    None for a forge whose compare links we do not know.
    """
    parts = urlsplit(repository_url.strip())
    form = _COMPARE_FORMS.get(parts.netloc.lower()) if parts.scheme in ("http", "https") else None
    match = _REPOSITORY_PATH.match(parts.path)
    if form is None or match is None:
        return None
    return form.format(path=match.group(1), older=older, newer=newer)


_REPOSITORY_PATH = re.compile(r"^/([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)(?:\.git)?/?$")


def _entry_key(entry: Mapping[str, Any]) -> tuple[str, str]:
    return (canonicalize_name(str(entry.get("package", ""))), str(entry.get("case_id", "")))


def _dates(report: BisectionReport, extra: Mapping[Version, datetime] | None) -> dict[Version, datetime]:
    return {**report.upload_dates, **(extra or {})}


def _text(version: Version | None) -> str | None:
    return None if version is None else str(version)


def _day(version: Version | None, dates: Mapping[Version, datetime]) -> str:
    if version is None or version not in dates:
        return ""
    return dates[version].strftime("%Y-%m-%d")


def _probe_json(probe: ProbeOutcome, dates: Mapping[Version, datetime]) -> dict[str, Any]:
    return {
        "version": str(probe.version),
        "outcome": probe.outcome.value,
        "seconds": round(probe.seconds, 3),
        "reused": probe.reused,
        "detail": probe.detail,
        "record_key": probe.record_key,
        "uploaded": dates[probe.version].isoformat() if probe.version in dates else None,
    }


def _step_json(step: ProbeStep, dates: Mapping[Version, datetime]) -> dict[str, Any]:
    return {"search": step.search.value, "verdict": step.verdict.value, **_probe_json(step.probe, dates)}


def _result_json(
    result: SearchResult[Version], dates: Mapping[Version, datetime], repository_url: str | None
) -> dict[str, Any]:
    before_name, after_name = _SIDE_NAMES[result.direction]
    return {
        "status": result.status.value,
        "message": result.message,
        before_name: _text(result.before),
        after_name: _text(result.after),
        "candidates": [str(version) for version in result.candidates],
        "inconsistent": [str(version) for version in result.inconsistent],
        "invalid_anchor": _text(result.anchor),
        "uploaded": {
            str(version): dates[version].isoformat()
            for version in (result.before, result.after)
            if version is not None and version in dates
        },
        "compare_url": _compare(result, repository_url),
    }


def _compare(result: SearchResult[Version], repository_url: str | None) -> str | None:
    if repository_url is None or result.before is None or result.after is None:
        return None
    if result.status not in (SearchStatus.FOUND, SearchStatus.AMBIGUOUS):
        return None
    return compare_url(repository_url, result.before, result.after)


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


def _result_row(result: SearchResult[Version], dates: Mapping[Version, datetime], repository_url: str | None) -> str:
    before_name, after_name = (name.replace("_", " ") for name in _SIDE_NAMES[result.direction])
    link = _compare(result, repository_url)
    compare = "" if link is None else f"[{result.before}...{result.after}]({link})"
    return (
        f"| {result.direction.value} | {result.status.value.replace('_', ' ')} | "
        f"{_side_cell(before_name, result.before, dates)} | {_side_cell(after_name, result.after, dates)} | "
        f"{compare} | {inline(result.message)} |"
    )


def _probe_cells(probe: ProbeOutcome, dates: Mapping[Version, datetime]) -> str:
    return f"{inline(str(probe.version))} | {_day(probe.version, dates)} | {probe.outcome.value}"


def _detail_cell(probe: ProbeOutcome) -> str:
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
