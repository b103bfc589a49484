"""A bisection's release timeline: each release coloured by its probe, the boundaries flagged, long gaps folded."""

from __future__ import annotations

from harness.bisection.search import SearchStatus
from harness.bisection.stored import StoredBisection, StoredProbe, StoredRelease
from harness.reports.export import bisection_verdict
from harness.reports.html.style import OUTCOME_STYLES, esc, outcome_class, plural, version_key
from harness.reports.progress import format_duration

GAP_MIN = 3
"""Runs of at least this many unprobed releases fold into one chip, so hundreds of releases stay legible."""
_MARKS = ("last good", "first bad", "last bad", "first fixed")


def timeline(bisection: StoredBisection) -> str:
    probes = {probe.version: probe for probe in bisection.probes}
    releases = bisection.releases or tuple(
        # A result without the release list still shows what was probed, in version order.
        StoredRelease(version)
        for version in sorted(probes, key=version_key)
    )
    marks = boundary_marks(bisection)
    items = []
    for entry in _fold(releases, probes, marks):
        if isinstance(entry, tuple):
            first, last, count = entry
            items.append(f'<li class="gap" title="{esc(first)} … {esc(last)}">… {count} releases not probed …</li>')
        else:
            items.append(_release_item(entry, probes.get(entry.version), marks.get(entry.version, ())))
    verdict = bisection_verdict(bisection)
    verdict_html = f"<p><strong>Verdict:</strong> {esc(verdict)}</p>" if verdict else ""
    fresh = [p for p in probes.values() if not p.reused]
    spent = sum(p.seconds or 0.0 for p in fresh)
    stats = (
        f"{len(probes)} probe{plural(len(probes))} of {len(releases)} releases"
        f" ({len(probes) - len(fresh)} reused, {format_duration(spent)} probing)"
    )
    known = (
        f" · known-bad range <code>{esc(bisection.package)}{esc(bisection.known_bad_range)}</code>"
        if bisection.known_bad_range
        else ""
    )
    return (
        f'<div class="timeline-block"><h3>Releases of {esc(bisection.package or "the bisected package")}</h3>'
        f'<ol class="timeline">{"".join(items)}</ol>{verdict_html}<p class="muted">{stats}{known}</p></div>'
    )


def boundary_marks(bisection: StoredBisection) -> dict[str, tuple[str, ...]]:
    """Version -> boundary names shown on it: last good, first bad, last bad, first fixed, candidate."""
    marks: dict[str, list[str]] = {}
    for search, (before, after) in ((bisection.regression, _MARKS[:2]), (bisection.fix, _MARKS[2:])):
        if search is None:
            continue
        # An unconfirmed step names no boundary: only its candidates are marked.
        sides = () if search.status is SearchStatus.UNCONFIRMED else ((before, search.before), (after, search.after))
        for name, version in sides:
            if version:
                marks.setdefault(version, []).append(name)
        for version in search.candidates:
            marks.setdefault(version, []).append("candidate")
    return {version: tuple(dict.fromkeys(names)) for version, names in marks.items()}


def _release_item(release: StoredRelease, probe: StoredProbe | None, marks: tuple[str, ...]) -> str:
    outcome = probe.outcome if probe else None
    style = OUTCOME_STYLES.get(outcome) if outcome else None
    css = outcome_class(outcome) if outcome else "unprobed"
    flags = "".join(f'<span class="flag">{esc(mark)}</span>' for mark in marks if mark != "candidate")
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
    date = f'<span class="date">{esc(release.upload_time[:10])}</span>' if release.upload_time else ""
    symbol = f"{esc(style.symbol)} " if style else ""
    outcome_attr = f' data-outcome="{esc(probe.outcome_text)}"' if probe else ""
    return (
        f'<li class="release {css}" data-version="{esc(release.version)}"{outcome_attr} title="{esc(" · ".join(tip))}">'
        f'{flags}<span class="version">{symbol}{esc(release.version)}</span>{date}</li>'
    )


def _fold(
    releases: tuple[StoredRelease, ...], probes: dict[str, StoredProbe], marks: dict[str, tuple[str, ...]]
) -> list[StoredRelease | tuple[str, str, int]]:
    kept = [r.version in probes or r.version in marks for r in releases]
    entries: list[StoredRelease | tuple[str, str, int]] = []
    index = 0
    while index < len(releases):
        end = index
        while end < len(kept) and not kept[end]:
            end += 1
        if end - index >= GAP_MIN:
            entries.append((releases[index].version, releases[end - 1].version, end - index))
            index = end
        else:
            entries.append(releases[index])
            index += 1
    return entries
