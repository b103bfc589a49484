"""The outcome heat map of one ``CaseSummary`` and the details of every probe in it."""

from __future__ import annotations

from collections.abc import Sequence

from packaging.utils import NormalizedName

from harness.model.case import Parameters
from harness.model.probe_record import ProbeRecord
from harness.reports.html.style import BLOCK_LIMIT, OUTCOME_STYLES, esc, outcome_class
from harness.reports.progress import format_duration
from harness.reports.summary import CaseSummary, Column, column_label, row_label


def matrices(summaries: Sequence[CaseSummary], packages: Sequence[NormalizedName], *, probed: bool) -> str:
    """Every parameter set's matrix; ``probed`` says whether the case has any records at all."""
    if not probed:
        return '<h3>Matrix</h3><p class="muted">No probe records for this case.</p>'
    if not summaries:
        return '<h3>Matrix</h3><p class="muted">Only bisection probes so far; run nox -s repro for the matrix.</p>'
    parts = ["<h3>Matrix</h3>"]
    parts += [matrix(summary, packages, several=len(summaries) > 1) for summary in summaries]
    return "\n".join(parts)


def matrix(summary: CaseSummary, packages: Sequence[NormalizedName], *, several: bool) -> str:
    head = "".join(f'<th scope="col">{esc(_column_text(column))}</th>' for column in summary.columns)
    body = []
    ordered: list[ProbeRecord] = []
    for row in summary.rows:
        tds = []
        label_row = row_label(row)
        for column in summary.columns:
            cell = summary.cell(row, column)
            label = _column_text(column)
            if cell is None:
                tds.append(
                    f'<td class="cell unprobed" data-row="{esc(label_row)}" data-column="{esc(label)}">not probed</td>'
                )
                continue
            ordered.append(cell.record)
            style = OUTCOME_STYLES[cell.outcome]
            counts = cell.text.removeprefix(cell.outcome.value)  # " 2/6" for a flaky cell
            tds.append(
                f'<td class="cell {outcome_class(cell.outcome)}" data-outcome="{cell.outcome.value}" '
                f'data-row="{esc(label_row)}" data-column="{esc(label)}"><a href="#probe-{esc(cell.record_key)}" '
                f'title="{esc(cell.detail)}">{esc(style.symbol)} {esc(style.label)}{esc(counts)}</a></td>'
            )
        body.append(f'<tr><th scope="row" class="mono">{esc(label_row)}</th>{"".join(tds)}</tr>')
    corner = f"{esc(summary.row_package)} ↓" if summary.row_package else ""
    caption = parameters_text(summary.parameters)
    caption_html = f"<caption>parameters: {esc(caption)}</caption>" if caption or several else ""
    table = (
        f'<div class="scroll"><table class="matrix">{caption_html}<thead><tr><th scope="col">{corner}</th>{head}'
        f"</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )
    probes = "".join(_probe_details(record, packages) for record in ordered)
    return f'{table}<div class="probes"><h4>Probes</h4>{probes}</div>'


def parameters_text(parameters: Parameters) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in parameters)


def _column_text(column: Column) -> str:
    return column_label(column) or "(no other packages)"


def _probe_details(record: ProbeRecord, packages: Sequence[NormalizedName]) -> str:
    style = OUTCOME_STYLES[record.outcome]
    rank = {name: index for index, name in enumerate(packages)}
    requested = sorted(record.request.pins, key=lambda pin: (rank.get(pin.name, len(rank)), pin.name))
    summary = (
        f'<summary><span class="chip {outcome_class(record.outcome)}">{esc(style.symbol)} {esc(style.label)}</span> '
        f'<span class="mono">{esc(" · ".join(f"{p.name} {p.version}" for p in requested))}</span> '
        f'<span class="muted">{esc(record.detail)}</span></summary>'
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
        ("parameters", parameters_text(record.request.parameters) or "—"),
        ("record key", record.key),
    ]
    if record.request.forced:
        facts.append(("forced", "pins applied as overrides of the declared requirements"))
    if record.request.exclude_newer:
        facts.append(("resolved as of", record.request.exclude_newer))
    if record.environment_id:
        facts.append(("environment", record.environment_id))
    facts += [("repaired", repair.describe()) for repair in record.repairs]
    parts.append('<dl class="facts">' + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts) + "</dl>")
    if record.error_type:
        message = esc(record.error_message or "", limit=BLOCK_LIMIT)
        parts.append(f"<h5>{esc(record.error_type)}</h5><pre>{message}</pre>")
    if record.traceback_tail:
        tail = esc(record.traceback_tail, limit=BLOCK_LIMIT, keep_end=True)
        parts.append(f"<h5>Traceback (tail)</h5><pre>{tail}</pre>")
    if record.installer_message:
        parts.append(f"<h5>Installer</h5><pre>{esc(record.installer_message, limit=BLOCK_LIMIT, keep_end=True)}</pre>")
    parts.append("</div>")
    return f'<details class="probe" id="probe-{esc(record.key)}">{"".join(parts)}</details>'


def _environment_table(record: ProbeRecord) -> str:
    requested = {pin.name: pin.version for pin in record.request.pins}
    resolved = {pin.name: pin.version for pin in record.resolved}
    rows = []
    for name in sorted({*requested, *resolved}):
        asked = str(requested[name]) if name in requested else ""
        got = str(resolved[name]) if name in resolved else "—"
        css = ' class="pinned"' if name in requested else ""
        rows.append(f"<tr{css}><td>{esc(name)}</td><td>{esc(got)}</td><td>{esc(asked)}</td></tr>")
    return (
        '<table class="plain env"><caption>Environment</caption><thead><tr><th>package</th><th>installed</th>'
        f"<th>requested</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
