"""The HTML report: one self-contained page with each case's release timeline, outcome heat map and probes."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName
from packaging.version import InvalidVersion, Version

from harness.model.case import Case, Parameters
from harness.model.outcome import Outcome
from harness.model.pins import Pin
from harness.model.probe_record import ProbeRecord
from harness.reports.export import bisection_verdict
from harness.reports.progress import format_duration


@dataclass(frozen=True)
class OutcomeStyle:
    label: str
    symbol: str
    colour: str
    """Okabe-Ito colours, told apart by the colour-blind; cell text is dark on every one of them."""
    hatched: bool = False
    """Stripes tell apart the two outcomes that share a hue."""
    meaning: str = ""


CELL_TEXT = "#111111"
OUTCOME_STYLES: Mapping[Outcome, OutcomeStyle] = {
    Outcome.REPRODUCED: OutcomeStyle("reproduced", "✗", "#D55E00", meaning="the recorded failure occurred"),
    Outcome.PASSED: OutcomeStyle("passed", "✓", "#009E73", meaning="the case ran to completion"),
    Outcome.DIFFERENT_ERROR: OutcomeStyle("different error", "≠", "#E69F00", meaning="another exception was raised"),
    Outcome.UNRESOLVABLE: OutcomeStyle("unresolvable", "∅", "#C8C8C8", meaning="no environment satisfies the pins"),
    Outcome.INSTALL_FAILED: OutcomeStyle(
        "install failed", "⚠", "#A0A0A0", hatched=True, meaning="the environment could not be built"
    ),
    Outcome.TIMEOUT: OutcomeStyle("timeout", "◷", "#CC79A7", meaning="the case exceeded its time limit"),
    Outcome.CRASHED: OutcomeStyle(
        "crashed", "☠", "#CC79A7", hatched=True, meaning="the interpreter died or ran out of memory"
    ),
}
_OUTCOME_VALUES = frozenset(outcome.value for outcome in Outcome)
_GAP_MIN = 3
"""Runs of at least this many unprobed releases fold into one chip, so hundreds of releases stay legible."""


def latest_records(records: Iterable[ProbeRecord]) -> list[ProbeRecord]:
    """One record per case, pins and parameters: the newest by ``started_at`` (the later one on a tie)."""
    newest: dict[tuple[str, tuple[Pin, ...], Parameters], ProbeRecord] = {}
    for record in records:
        request = record.request
        identity = (request.case_id, tuple(sorted(set(request.pins))), request.parameters)
        current = newest.get(identity)
        if current is None or _instant(record.started_at) >= _instant(current.started_at):
            newest[identity] = record
    return list(newest.values())


def render_index(
    cases: Sequence[Case],
    records: Sequence[ProbeRecord],
    bisections: Sequence[Mapping[str, Any]],
    known_bad: Mapping[str, Any] | None,
    *,
    generated_at: str,
) -> str:
    """The whole page; every string from a case, a record or an exception is escaped on the way in."""
    current = latest_records(records)
    ranges = _known_bad_ranges(known_bad)
    views = _case_views(cases, current, bisections, ranges)
    body = [
        "<header>",
        "<h1>Dependency regression report</h1>",
        f'<p class="muted">Generated {_e(generated_at)} · {len(views)} case{_plural(len(views))} · '
        f"{len(current)} probe{_plural(len(current))}</p>",
        "</header>",
        _overview(views),
        _legend(),
        *(_case_section(view) for view in views),
    ]
    script = _SCRIPT
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    # Only our own script may run, even if some hostile text ever slipped past escaping.
    policy = (
        f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{policy}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            "<title>Dependency regression report</title>",
            f"<style>{_css()}</style>",
            "</head>",
            "<body>",
            "<main>",
            *body,
            "</main>",
            f"<script>{script}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def write_index(path: Path, html: str) -> None:
    """Write the page atomically, so a browser reloading it never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(html)
        Path(temporary).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(temporary).unlink()
        raise


# --- views: the inputs regrouped per case, with loose JSON read into values --------------------------------


@dataclass(frozen=True)
class KnownBadRange:
    case_id: str
    package: str
    specifier: str
    first_bad: str | None
    first_fixed: str | None
    found_at: str | None


@dataclass(frozen=True)
class _Release:
    version: str
    upload_time: str | None


@dataclass(frozen=True)
class _TimelineProbe:
    outcome: Outcome | None
    outcome_text: str
    seconds: float | None
    reused: bool


@dataclass(frozen=True)
class _Bisection:
    package: str
    releases: tuple[_Release, ...]
    probes: Mapping[str, _TimelineProbe]
    marks: Mapping[str, tuple[str, ...]]
    """Version -> boundary names shown on it: last good, first bad, last bad, first fixed, candidate."""
    verdict: str | None
    known_bad_range: str | None


@dataclass(frozen=True)
class _CaseView:
    id: str
    title: str
    upstream: str | None
    signature: tuple[tuple[str, str], ...]
    packages: tuple[NormalizedName, ...]
    records: tuple[ProbeRecord, ...]
    bisections: tuple[_Bisection, ...]
    ranges: tuple[KnownBadRange, ...]
    known: bool = True


def _case_views(
    cases: Sequence[Case],
    records: Sequence[ProbeRecord],
    bisections: Sequence[Mapping[str, Any]],
    ranges: Sequence[KnownBadRange],
) -> list[_CaseView]:
    by_case: dict[str, list[ProbeRecord]] = {}
    for record in records:
        by_case.setdefault(record.request.case_id, []).append(record)
    bisections_by_case: dict[str, list[_Bisection]] = {}
    for data in bisections:
        bisections_by_case.setdefault(str(data.get("case_id", "")), []).append(_bisection(data))
    views = []
    for case in cases:
        signature = [("exception", case.signature.exception_type)]
        signature += [("message contains", fragment) for fragment in case.signature.message_contains]
        if case.signature.message_regex:
            signature.append(("message matches", case.signature.message_regex))
        views.append(
            _CaseView(
                id=case.id,
                title=case.title,
                upstream=case.upstream,
                signature=tuple(signature),
                packages=case.packages,
                # Records of an earlier version of the case (another content hash) are not evidence about this one.
                records=tuple(r for r in by_case.pop(case.id, []) if r.request.case_hash == case.content_hash),
                bisections=tuple(bisections_by_case.pop(case.id, [])),
                ranges=tuple(r for r in ranges if r.case_id == case.id),
            )
        )
    # Records or results of a case no longer on disk are still evidence; show them rather than drop them.
    for case_id in sorted({*by_case, *bisections_by_case, *(r.case_id for r in ranges)} - {c.id for c in cases}):
        orphans = by_case.get(case_id, [])
        names = sorted({pin.name for record in orphans for pin in record.request.pins})
        views.append(
            _CaseView(
                id=case_id,
                title=case_id,
                upstream=None,
                signature=(),
                packages=tuple(names),
                records=tuple(orphans),
                bisections=tuple(bisections_by_case.get(case_id, [])),
                ranges=tuple(r for r in ranges if r.case_id == case_id),
                known=False,
            )
        )
    return views


def _bisection(data: Mapping[str, Any]) -> _Bisection:
    releases = [
        _Release(str(item["version"]), _text(item.get("upload_time")))
        for item in _list(data.get("releases"))
        if isinstance(item, Mapping) and _text(item.get("version"))
    ]
    probes: dict[str, _TimelineProbe] = {}
    for item in _list(data.get("probes")):
        if not isinstance(item, Mapping) or not _text(item.get("version")):
            continue
        text = str(item.get("outcome", ""))
        seconds = item.get("seconds")
        probes[str(item["version"])] = _TimelineProbe(
            outcome=Outcome(text) if text in _OUTCOME_VALUES else None,
            outcome_text=text,
            seconds=float(seconds) if isinstance(seconds, int | float) else None,
            reused=bool(item.get("reused", False)),
        )
    if not releases:
        # A result without the release list still shows what was probed, in version order.
        releases = [_Release(version, None) for version in sorted(probes, key=_version_key)]
    marks: dict[str, list[str]] = {}
    for section, names in (("regression", ("last_good", "first_bad")), ("fix", ("last_bad", "first_fixed"))):
        found = _mapping(data.get(section))
        for name in names:
            version = _text(found.get(name))
            if version:
                marks.setdefault(version, []).append(name.replace("_", " "))
        for version in _list(found.get("candidates")):
            marks.setdefault(str(version), []).append("candidate")
    return _Bisection(
        package=str(data.get("package") or ""),
        releases=tuple(releases),
        probes=probes,
        marks={version: tuple(dict.fromkeys(names)) for version, names in marks.items()},
        verdict=bisection_verdict(data),
        known_bad_range=_text(data.get("known_bad_range")),
    )


def _known_bad_ranges(known_bad: Mapping[str, Any] | None) -> list[KnownBadRange]:
    ranges = []
    for item in _list((known_bad or {}).get("ranges")):
        if isinstance(item, Mapping):
            ranges.append(
                KnownBadRange(
                    case_id=str(item.get("case_id", "")),
                    package=str(item.get("package", "")),
                    specifier=str(item.get("specifier", "")),
                    first_bad=_text(item.get("first_bad")),
                    first_fixed=_text(item.get("first_fixed")),
                    found_at=_text(item.get("found_at")),
                )
            )
    return ranges


# --- sections --------------------------------------------------------------------------------------------------


def _overview(views: Sequence[_CaseView]) -> str:
    if not views:
        return '<p class="empty">No cases and no probe records yet.</p>'
    rows = []
    for view in views:
        counts = _counts(view.records)
        chips = " ".join(
            f'<span class="chip {_class(outcome)}">{counts[outcome]} {_e(OUTCOME_STYLES[outcome].label)}</span>'
            for outcome in Outcome
            if counts.get(outcome)
        )
        verdicts = "; ".join(
            f"{_e(b.package)}: {_e(b.verdict)}" if b.package else _e(b.verdict) for b in view.bisections if b.verdict
        )
        rows.append(
            f'<tr><th scope="row"><a href="#{_anchor(view.id)}">{_e(view.title)}</a>'
            f'<div class="muted mono">{_e(view.id)}</div></th>'
            f"<td>{chips or '<span class=muted>no probes</span>'}</td><td>{verdicts or '—'}</td></tr>"
        )
    return (
        '<section class="overview"><h2>Cases</h2><table class="plain"><thead><tr><th>case</th><th>probes</th>'
        f"<th>bisection</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _legend() -> str:
    items = [
        f'<li><span class="chip {_class(outcome)}">{_e(style.symbol)} {_e(style.label)}</span> {_e(style.meaning)}</li>'
        for outcome, style in OUTCOME_STYLES.items()
    ]
    items.append('<li><span class="chip unprobed">not probed</span> no record for this release or combination</li>')
    items.append(
        '<li><span class="flag">first bad</span> bisection boundary: the release where the failure starts or stops</li>'
    )
    return f'<section class="legend"><h2>Legend</h2><ul>{"".join(items)}</ul></section>'


def _case_section(view: _CaseView) -> str:
    parts = [f'<section class="case" id="{_anchor(view.id)}">', f"<h2>{_e(view.title)}</h2>"]
    meta = [f'case <span class="mono">{_e(view.id)}</span>']
    if view.upstream:
        meta.append(_link(view.upstream))
    if not view.known:
        meta.append("not among the cases given: shown from its records")
    parts.append(f'<p class="muted">{" · ".join(meta)}</p>')
    if view.signature:
        rows = "".join(f"<tr><th>{_e(k)}</th><td class='mono'>{_e(v)}</td></tr>" for k, v in view.signature)
        parts.append(f'<table class="plain signature"><caption>Failure signature</caption>{rows}</table>')
    if view.bisections:
        parts += [_timeline(bisection) for bisection in view.bisections]
    else:
        parts.append('<p class="muted">No bisection recorded for this case.</p>')
    parts.append(_matrices(view))
    if view.ranges:
        parts.append(_ranges_table(view.ranges))
    parts.append("</section>")
    return "\n".join(parts)


def _timeline(bisection: _Bisection) -> str:
    items = []
    for entry in _fold(bisection):
        if isinstance(entry, tuple):
            first, last, count = entry
            items.append(f'<li class="gap" title="{_e(first)} … {_e(last)}">… {count} releases not probed …</li>')
            continue
        release = entry
        probe = bisection.probes.get(release.version)
        style = OUTCOME_STYLES.get(probe.outcome) if probe and probe.outcome else None
        css = _class(probe.outcome) if probe and probe.outcome else "unprobed"
        marks = bisection.marks.get(release.version, ())
        flags = "".join(f'<span class="flag">{_e(mark)}</span>' for mark in marks if mark != "candidate")
        if "candidate" in marks:
            css += " candidate"
        if any(mark in ("first bad", "first fixed") for mark in marks):
            css += " boundary"
        outcome_text = style.label if style else (probe.outcome_text if probe else "not probed")
        tip = [release.version, outcome_text]
        if probe and probe.seconds is not None:
            tip.append(format_duration(probe.seconds))
        if probe and probe.reused:
            tip.append("reused record")
        if release.upload_time:
            tip.append(f"uploaded {release.upload_time}")
        date = f'<span class="date">{_e(release.upload_time[:10])}</span>' if release.upload_time else ""
        symbol = f"{_e(style.symbol)} " if style else ""
        outcome_attr = f' data-outcome="{_e(probe.outcome_text)}"' if probe else ""
        title = _e(" · ".join(tip))
        items.append(
            f'<li class="release {css}" data-version="{_e(release.version)}"{outcome_attr} title="{title}">'
            f'{flags}<span class="version">{symbol}{_e(release.version)}</span>{date}</li>'
        )
    verdict = f"<p><strong>Verdict:</strong> {_e(bisection.verdict)}</p>" if bisection.verdict else ""
    fresh = [p for p in bisection.probes.values() if not p.reused]
    spent = sum(p.seconds or 0.0 for p in fresh)
    stats = (
        f"{len(bisection.probes)} probe{_plural(len(bisection.probes))} of {len(bisection.releases)} releases"
        f" ({len(bisection.probes) - len(fresh)} reused, {format_duration(spent)} probing)"
    )
    known = (
        f" · known-bad range <code>{_e(bisection.package)}{_e(bisection.known_bad_range)}</code>"
        if bisection.known_bad_range
        else ""
    )
    return (
        f'<div class="timeline-block"><h3>Releases of {_e(bisection.package or "the bisected package")}</h3>'
        f'<ol class="timeline">{"".join(items)}</ol>{verdict}<p class="muted">{stats}{known}</p></div>'
    )


def _fold(bisection: _Bisection) -> list[_Release | tuple[str, str, int]]:
    kept = [r.version in bisection.probes or r.version in bisection.marks for r in bisection.releases]
    entries: list[_Release | tuple[str, str, int]] = []
    index = 0
    while index < len(bisection.releases):
        end = index
        while end < len(kept) and not kept[end]:
            end += 1
        if end - index >= _GAP_MIN:
            entries.append((bisection.releases[index].version, bisection.releases[end - 1].version, end - index))
            index = end
        else:
            entries.append(bisection.releases[index])
            index += 1
    return entries


def _matrices(view: _CaseView) -> str:
    if not view.records:
        return '<h3>Matrix</h3><p class="muted">No probe records for this case.</p>'
    groups: dict[Parameters, list[ProbeRecord]] = {}
    for record in view.records:
        # Time-travel probes resolved their other dependencies as of an old date: the release timeline shows
        # them; the matrix is today's resolutions, as in summary.md.
        if not record.request.exclude_newer:
            groups.setdefault(record.request.parameters, []).append(record)
    if not groups:
        return '<h3>Matrix</h3><p class="muted">Only bisection probes so far; run nox -s repro for the matrix.</p>'
    parts = ["<h3>Matrix</h3>"]
    for parameters in sorted(groups, key=repr):
        parts.append(_matrix(view, parameters, groups[parameters], several=len(groups) > 1))
    return "\n".join(parts)


def _matrix(view: _CaseView, parameters: Parameters, records: Sequence[ProbeRecord], *, several: bool) -> str:
    row_package = view.packages[0] if view.packages else None
    rank = {name: index for index, name in enumerate(view.packages)}

    def row_of(record: ProbeRecord) -> str:
        pin = next((p for p in record.request.pins if p.name == row_package), None)
        return str(pin.version) if pin else "—"

    def column_of(record: ProbeRecord) -> tuple[Pin, ...]:
        others = [pin for pin in record.request.pins if pin.name != row_package]
        return tuple(sorted(others, key=lambda pin: (rank.get(pin.name, len(rank)), pin.name)))

    cells = {(row_of(record), column_of(record)): record for record in records}
    rows = sorted({row for row, _ in cells}, key=_version_key)
    columns = sorted({column for _, column in cells}, key=lambda pins: [(p.name, p.version) for p in pins])
    head = "".join(f'<th scope="col">{_e(_column_label(column))}</th>' for column in columns)
    body = []
    for row in rows:
        tds = []
        for column in columns:
            record = cells.get((row, column))
            label = _column_label(column)
            if record is None:
                tds.append(f'<td class="cell unprobed" data-row="{_e(row)}" data-column="{_e(label)}">not probed</td>')
                continue
            style = OUTCOME_STYLES[record.outcome]
            tds.append(
                f'<td class="cell {_class(record.outcome)}" data-outcome="{record.outcome.value}" '
                f'data-row="{_e(row)}" data-column="{_e(label)}"><a href="#probe-{_e(record.key)}" '
                f'title="{_e(record.detail)}">{_e(style.symbol)} {_e(style.label)}</a></td>'
            )
        body.append(f'<tr><th scope="row" class="mono">{_e(row)}</th>{"".join(tds)}</tr>')
    corner = f"{_e(row_package)} ↓" if row_package else ""
    caption = _parameters_text(parameters)
    caption_html = f"<caption>parameters: {_e(caption)}</caption>" if caption or several else ""
    table = (
        f'<div class="scroll"><table class="matrix">{caption_html}<thead><tr><th scope="col">{corner}</th>{head}'
        f"</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )
    ordered = sorted(records, key=lambda r: (_version_key(row_of(r)), [(p.name, p.version) for p in column_of(r)]))
    probes = "".join(_probe_details(record, view.packages) for record in ordered)
    return f'{table}<div class="probes"><h4>Probes</h4>{probes}</div>'


def _probe_details(record: ProbeRecord, packages: Sequence[NormalizedName]) -> str:
    style = OUTCOME_STYLES[record.outcome]
    rank = {name: index for index, name in enumerate(packages)}
    requested = sorted(record.request.pins, key=lambda pin: (rank.get(pin.name, len(rank)), pin.name))
    summary = (
        f'<summary><span class="chip {_class(record.outcome)}">{_e(style.symbol)} {_e(style.label)}</span> '
        f'<span class="mono">{_e(" · ".join(f"{p.name} {p.version}" for p in requested))}</span> '
        f'<span class="muted">{_e(record.detail)}</span></summary>'
    )
    parts = [summary, '<div class="probe-body">']
    parts.append(_environment_table(record))
    timings = record.timings
    facts = [
        ("python", record.python_full or record.request.python),
        ("platform", record.platform or "—"),
        ("mode", record.mode),
        (
            "timings",
            f"resolve {format_duration(timings.resolve)} · install {format_duration(timings.install)} · "
            f"run {format_duration(timings.run)} · total {format_duration(timings.total)}",
        ),
        ("started", record.started_at or "—"),
        ("parameters", _parameters_text(record.request.parameters) or "—"),
        ("record key", record.key),
    ]
    if record.request.forced:
        facts.append(("forced", "pins applied as overrides of the declared requirements"))
    if record.request.exclude_newer:
        facts.append(("resolved as of", record.request.exclude_newer))
    if record.environment_id:
        facts.append(("environment", record.environment_id))
    parts.append('<dl class="facts">' + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts) + "</dl>")
    if record.error_type:
        parts.append(f"<h5>{_e(record.error_type)}</h5><pre>{_e(record.error_message or '')}</pre>")
    if record.traceback_tail:
        parts.append(f"<h5>Traceback (tail)</h5><pre>{_e(record.traceback_tail)}</pre>")
    if record.installer_message:
        parts.append(f"<h5>Installer</h5><pre>{_e(record.installer_message)}</pre>")
    parts.append("</div>")
    return f'<details class="probe" id="probe-{_e(record.key)}">{"".join(parts)}</details>'


def _environment_table(record: ProbeRecord) -> str:
    requested = {pin.name: pin.version for pin in record.request.pins}
    resolved = {pin.name: pin.version for pin in record.resolved}
    rows = []
    for name in sorted({*requested, *resolved}):
        asked = str(requested[name]) if name in requested else ""
        got = str(resolved[name]) if name in resolved else "—"
        css = ' class="pinned"' if name in requested else ""
        rows.append(f"<tr{css}><td>{_e(name)}</td><td>{_e(got)}</td><td>{_e(asked)}</td></tr>")
    return (
        '<table class="plain env"><caption>Environment</caption><thead><tr><th>package</th><th>installed</th>'
        f"<th>requested</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _ranges_table(ranges: Sequence[KnownBadRange]) -> str:
    rows = "".join(
        f"<tr><td>{_e(r.package)}</td><td class='mono'>{_e(r.specifier)}</td><td>{_e(r.first_bad or '—')}</td>"
        f"<td>{_e(r.first_fixed or '—')}</td><td>{_e(r.found_at or '—')}</td></tr>"
        for r in ranges
    )
    return (
        '<h3>Known-bad ranges</h3><table class="plain ranges"><thead><tr><th>package</th><th>specifier</th>'
        f"<th>first bad</th><th>first fixed</th><th>found</th></tr></thead><tbody>{rows}</tbody></table>"
    )


# --- small helpers ---------------------------------------------------------------------------------------------


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _link(url: str) -> str:
    # Only web links become links: a case file could carry "javascript:" as its upstream.
    if re.match(r"^https?://", url, re.IGNORECASE):
        return f'<a href="{_e(url)}" rel="noreferrer noopener">{_e(url)}</a>'
    return f'<span class="mono">{_e(url)}</span>'


def _anchor(case_id: str) -> str:
    return "case-" + re.sub(r"[^A-Za-z0-9_.-]", "-", case_id)


def _class(outcome: Outcome) -> str:
    return "o-" + outcome.value.lower().replace("_", "-")


def _plural(count: int) -> str:
    return "" if count == 1 else "s"


def _column_label(pins: Sequence[Pin]) -> str:
    return " · ".join(f"{pin.name} {pin.version}" for pin in pins) or "(no other packages)"


def _parameters_text(parameters: Parameters) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in parameters)


def _counts(records: Iterable[ProbeRecord]) -> dict[Outcome, int]:
    counts: dict[Outcome, int] = {}
    for record in records:
        counts[record.outcome] = counts.get(record.outcome, 0) + 1
    return counts


def _version_key(text: str) -> tuple[int, Version | str]:
    try:
        return (0, Version(text))
    except InvalidVersion:
        return (1, text)


def _instant(text: str) -> float:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return float("-inf")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _css() -> str:
    outcome_rules = []
    for outcome, style in OUTCOME_STYLES.items():
        background = style.colour
        if style.hatched:
            background = (
                "repeating-linear-gradient(135deg, rgba(255,255,255,.45) 0 4px, transparent 4px 9px), " + style.colour
            )
        outcome_rules.append(f".{_class(outcome)}{{background:{background};color:{CELL_TEXT}}}")
    return _CSS + "".join(outcome_rules)


_CSS = """
:root{--bg:#fbfbfa;--fg:#1c1c1c;--muted:#5b5b5b;--line:#d9d9d6;--panel:#ffffff;--accent:#0072B2;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Liberation Sans",sans-serif;
font-size:15px;line-height:1.45;color:var(--fg);background:var(--bg)}
@media (prefers-color-scheme:dark){:root{--bg:#17181a;--fg:#e8e8e6;--muted:#a6a6a2;--line:#3a3b3e;--panel:#202124;
--accent:#56B4E9}}
body{margin:0}
main{max-width:1200px;margin:0 auto;padding:24px 28px 64px}
h1{font-size:1.6rem;margin:0 0 4px}
h2{font-size:1.25rem;margin:0 0 6px}
h3{font-size:1.02rem;margin:22px 0 8px}
h4{font-size:.95rem;margin:16px 0 6px}
h5{font-size:.85rem;margin:12px 0 4px}
a{color:var(--accent)}
.muted{color:var(--muted)}
.mono,code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono","DejaVu Sans Mono",monospace;
font-size:.88em}
section{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:18px 20px;margin:18px 0}
header{margin-bottom:8px}
table{border-collapse:collapse}
table.plain th,table.plain td{text-align:left;padding:5px 10px;border-bottom:1px solid var(--line);vertical-align:top}
caption{text-align:left;font-weight:600;padding:4px 0;color:var(--muted);font-size:.85rem}
.signature{margin:8px 0}
.signature th{font-weight:500;color:var(--muted);white-space:nowrap}
.legend ul{list-style:none;padding:0;margin:0;font-size:.92rem;
display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));
gap:6px 18px}
.chip{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.82rem;font-weight:600;white-space:nowrap;
border:1px solid rgba(0,0,0,.15)}
.unprobed{background:transparent;color:var(--muted);border:1px dashed var(--line)}
.flag{display:block;font-size:.68rem;font-weight:700;text-transform:uppercase;letter-spacing:.03em;
color:var(--bg);background:var(--fg);border-radius:4px;padding:0 4px;margin:0 auto 3px;width:max-content}
.legend .flag{display:inline-block;margin:0}
.timeline{list-style:none;display:flex;flex-wrap:wrap;align-items:flex-end;gap:6px;padding:0;margin:6px 0 10px}
.timeline li{border-radius:6px;padding:4px 8px;text-align:center;min-width:64px;border:1px solid rgba(0,0,0,.15)}
.timeline .version{display:block;font-weight:600;font-size:.85rem;white-space:nowrap}
.timeline .date{display:block;font-size:.7rem;opacity:.85}
.timeline .gap{border:1px dashed var(--line);color:var(--muted);font-size:.75rem;align-self:center}
.timeline .boundary{outline:3px solid var(--fg);outline-offset:1px}
.timeline .candidate{outline:2px dashed var(--fg);outline-offset:1px}
.scroll{overflow-x:auto}
table.matrix{margin:4px 0 8px}
table.matrix caption{font-family:ui-monospace,monospace}
table.matrix th{font-size:.82rem;font-weight:600;padding:6px 10px;text-align:center;white-space:nowrap}
table.matrix th[scope=row]{text-align:right}
table.matrix td.cell{min-width:9.5rem;height:2.2rem;text-align:center;border:3px solid var(--panel);border-radius:8px;
font-weight:600;font-size:.88rem;padding:0}
table.matrix td.cell a{display:block;padding:8px 10px;color:inherit;text-decoration:none}
table.matrix td.cell a:hover,table.matrix td.cell a:focus{text-decoration:underline}
.probes details{border-top:1px solid var(--line);padding:5px 0}
.probes summary{cursor:pointer;display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.probes summary::before{content:"▸";color:var(--muted);width:.8em}
.probes details[open]>summary::before{content:"▾"}
.probes summary .chip{min-width:8.2rem;text-align:center}
.probes summary .muted{font-size:.85rem;overflow-wrap:anywhere}
details:target,details[open]{background:color-mix(in srgb,var(--accent) 5%,transparent)}
.probe-body{padding:6px 6px 10px 18px}
.env tr.pinned td:first-child{font-weight:700}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:10px 0}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0;overflow-wrap:anywhere}
pre{background:color-mix(in srgb,var(--fg) 6%,transparent);padding:10px 12px;border-radius:6px;overflow-x:auto;
white-space:pre-wrap;margin:0}
.empty{color:var(--muted)}
"""

# Opening the details a heat-map cell links to; without scripts the link still scrolls to its summary.
_SCRIPT = (
    "function openTarget(){var id=location.hash.slice(1);if(!id)return;var el=document.getElementById(id);"
    "if(el&&el.tagName==='DETAILS'){el.open=true;}}"
    "window.addEventListener('hashchange',openTarget);openTarget();"
)
