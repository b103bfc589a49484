"""The whole HTML page: one section per case with its bisection timelines, matrices and known-bad ranges."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName

from harness.bisection.stored import StoredBisection
from harness.files import write_atomically
from harness.model.case import Case
from harness.model.known_bad import KnownBadRange
from harness.model.outcome import Outcome
from harness.model.probe_record import ProbeRecord
from harness.reports.export import bisection_verdict
from harness.reports.html.commits import commit_windows
from harness.reports.html.matrix import matrices
from harness.reports.html.style import OUTCOME_STYLES, SCRIPT, css, esc, outcome_class, plural
from harness.reports.html.timeline import timeline
from harness.reports.summary import CaseSummary, latest_per_request, summaries_by_parameters


def render_index(
    cases: Sequence[Case],
    records: Sequence[ProbeRecord],
    bisections: Sequence[StoredBisection],
    known_bad: Sequence[KnownBadRange],
    *,
    generated_at: str,
) -> str:
    """The whole page; every string from a case, a record or an exception is escaped on the way in."""
    current = latest_per_request(records)
    views = _case_views(cases, current, bisections, known_bad)
    body = [
        "<header>",
        "<h1>Dependency regression report</h1>",
        f'<p class="muted">Generated {esc(generated_at)} · {len(views)} case{plural(len(views))} · '
        f"{len(current)} probe{plural(len(current))}</p>",
        "</header>",
        _overview(views),
        _legend(),
        *(_case_section(view) for view in views),
    ]
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
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
            f"<style>{css()}</style>",
            "</head>",
            "<body>",
            "<main>",
            *body,
            "</main>",
            f"<script>{SCRIPT}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def write_index(path: Path, html: str) -> None:
    """Write the page atomically, so a browser reloading it never sees half a report."""
    write_atomically(path, html)


@dataclass(frozen=True)
class _CaseView:
    id: str
    title: str
    upstream: str | None
    signature: tuple[tuple[str, str], ...]
    packages: tuple[NormalizedName, ...]
    records: tuple[ProbeRecord, ...]
    summaries: tuple[CaseSummary, ...]
    """One matrix per parameter set probed, computed as summary.md's is."""
    bisections: tuple[StoredBisection, ...]
    ranges: tuple[KnownBadRange, ...]
    known: bool = True


def _case_views(
    cases: Sequence[Case],
    records: Sequence[ProbeRecord],
    bisections: Sequence[StoredBisection],
    ranges: Sequence[KnownBadRange],
) -> list[_CaseView]:
    by_case: dict[str, list[ProbeRecord]] = {}
    for record in records:
        by_case.setdefault(record.request.case_id, []).append(record)
    bisections_by_case: dict[str, list[StoredBisection]] = {}
    for bisection in bisections:
        bisections_by_case.setdefault(bisection.case_id, []).append(bisection)
    views = []
    for case in cases:
        signature = [("exception", case.signature.exception_type)]
        signature += [("message contains", fragment) for fragment in case.signature.message_contains]
        if case.signature.message_regex:
            signature.append(("message matches", case.signature.message_regex))
        # Records of an earlier version of the case (another content hash) are not evidence about this one.
        own = tuple(r for r in by_case.pop(case.id, []) if r.request.case_hash == case.content_hash)
        views.append(
            _CaseView(
                id=case.id,
                title=case.title,
                upstream=case.upstream,
                signature=tuple(signature),
                packages=case.packages,
                records=own,
                summaries=tuple(summaries_by_parameters(case.id, case.title, case.packages, own)),
                bisections=tuple(bisections_by_case.pop(case.id, [])),
                ranges=tuple(r for r in ranges if r.case_id == case.id),
            )
        )
    # Records or results of a case no longer on disk are still evidence; show them rather than drop them.
    for case_id in sorted({*by_case, *bisections_by_case, *(r.case_id for r in ranges)} - {c.id for c in cases}):
        orphans = tuple(by_case.get(case_id, []))
        names = tuple(sorted({pin.name for record in orphans for pin in record.request.pins}))
        views.append(
            _CaseView(
                id=case_id,
                title=case_id,
                upstream=None,
                signature=(),
                packages=names,
                records=orphans,
                summaries=tuple(summaries_by_parameters(case_id, case_id, names, orphans)),
                bisections=tuple(bisections_by_case.get(case_id, [])),
                ranges=tuple(r for r in ranges if r.case_id == case_id),
                known=False,
            )
        )
    return views


# --- sections --------------------------------------------------------------------------------------------------


def _overview(views: Sequence[_CaseView]) -> str:
    if not views:
        return '<p class="empty">No cases and no probe records yet.</p>'
    rows = []
    for view in views:
        counts = _counts(view.records)
        chips = " ".join(
            f'<span class="chip {outcome_class(outcome)}">{counts[outcome]} {esc(OUTCOME_STYLES[outcome].label)}</span>'
            for outcome in Outcome
            if counts.get(outcome)
        )
        found = [(b.package, verdict) for b in view.bisections if (verdict := bisection_verdict(b))]
        verdicts = "; ".join(
            f"{esc(package)}: {esc(verdict)}" if package else esc(verdict) for package, verdict in found
        )
        rows.append(
            f'<tr><th scope="row"><a href="#{_anchor(view.id)}">{esc(view.title)}</a>'
            f'<div class="muted mono">{esc(view.id)}</div></th>'
            f"<td>{chips or '<span class=muted>no probes</span>'}</td><td>{verdicts or '—'}</td></tr>"
        )
    return (
        '<section class="overview"><h2>Cases</h2><table class="plain"><thead><tr><th>case</th><th>probes</th>'
        f"<th>bisection</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _legend() -> str:
    items = [
        f'<li><span class="chip {outcome_class(outcome)}">{esc(style.symbol)} {esc(style.label)}</span> '
        f"{esc(style.meaning)}</li>"
        for outcome, style in OUTCOME_STYLES.items()
    ]
    items.append('<li><span class="chip unprobed">not probed</span> no record for this release or combination</li>')
    items.append(
        '<li><span class="flag">first bad</span> bisection boundary: the release where the failure starts or stops</li>'
    )
    return f'<section class="legend"><h2>Legend</h2><ul>{"".join(items)}</ul></section>'


def _case_section(view: _CaseView) -> str:
    parts = [f'<section class="case" id="{_anchor(view.id)}">', f"<h2>{esc(view.title)}</h2>"]
    meta = [f'case <span class="mono">{esc(view.id)}</span>']
    if view.upstream:
        meta.append(_link(view.upstream))
    if not view.known:
        meta.append("not among the cases given: shown from its records")
    parts.append(f'<p class="muted">{" · ".join(meta)}</p>')
    if view.signature:
        rows = "".join(f"<tr><th>{esc(k)}</th><td class='mono'>{esc(v)}</td></tr>" for k, v in view.signature)
        parts.append(f'<table class="plain signature"><caption>Failure signature</caption>{rows}</table>')
    if view.bisections:
        parts += [timeline(bisection) + commit_windows(bisection) for bisection in view.bisections]
    else:
        parts.append('<p class="muted">No bisection recorded for this case.</p>')
    parts.append(matrices(view.summaries, view.packages, probed=bool(view.records)))
    if view.ranges:
        parts.append(_ranges_table(view.ranges))
    parts.append("</section>")
    return "\n".join(parts)


def _ranges_table(ranges: Sequence[KnownBadRange]) -> str:
    rows = "".join(
        f"<tr><td>{esc(r.package)}</td><td class='mono'>{esc(r.specifier_text)}</td><td>{esc(r.first_bad or '—')}</td>"
        f"<td>{esc(r.first_fixed or '—')}</td><td>{esc(r.found_at or '—')}</td></tr>"
        for r in ranges
    )
    return (
        '<h3>Known-bad ranges</h3><table class="plain ranges"><thead><tr><th>package</th><th>specifier</th>'
        f"<th>first bad</th><th>first fixed</th><th>found</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _link(url: str) -> str:
    # Only web links become links: a case file could carry "javascript:" as its upstream.
    if re.match(r"^https?://", url, re.IGNORECASE):
        return f'<a href="{esc(url)}" rel="noreferrer noopener">{esc(url)}</a>'
    return f'<span class="mono">{esc(url)}</span>'


def _anchor(case_id: str) -> str:
    return "case-" + re.sub(r"[^A-Za-z0-9_.-]", "-", case_id)


def _counts(records: Iterable[ProbeRecord]) -> dict[Outcome, int]:
    counts: dict[Outcome, int] = {}
    for record in records:
        counts[record.outcome] = counts.get(record.outcome, 0) + 1
    return counts
