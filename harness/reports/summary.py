"""Per-case summaries of stored records: the matrix of outcomes as values, JSON and a Markdown table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from packaging.utils import NormalizedName
from packaging.version import Version

from harness import markdown
from harness.model.case import Case
from harness.model.outcome import Outcome
from harness.model.pins import Pin
from harness.model.probe_record import ProbeRecord


@dataclass(frozen=True)
class Cell:
    outcome: Outcome
    detail: str
    record_key: str
    forced: bool
    pins: tuple[Pin, ...]


@dataclass(frozen=True)
class CaseSummary:
    case_id: str
    title: str
    row_package: NormalizedName
    column_packages: tuple[NormalizedName, ...]
    rows: tuple[Version, ...]
    columns: tuple[tuple[Version, ...], ...]
    cells: Mapping[tuple[Version, tuple[Version, ...]], Cell]
    stale_records: int
    """Records of an earlier version of the case, left out of the table."""

    def cell(self, row: Version, column: tuple[Version, ...]) -> Cell | None:
        return self.cells.get((row, column))

    def counts(self) -> dict[Outcome, int]:
        totals = dict.fromkeys(Outcome, 0)
        for cell in self.cells.values():
            totals[cell.outcome] += 1
        return totals


def latest_per_request(records: Iterable[ProbeRecord]) -> list[ProbeRecord]:
    """The newest record for each distinct request: records merged from several machines may repeat one."""
    newest: dict[str, ProbeRecord] = {}
    for record in records:
        held = newest.get(record.key)
        if held is None or record.started_at > held.started_at:
            newest[record.key] = record
    return sorted(newest.values(), key=lambda r: (r.request.pins, r.started_at))


def summarize(case: Case, records: Iterable[ProbeRecord]) -> CaseSummary:
    """The matrix view for a case's default parameters; the case's first package gives the rows."""
    row_package = case.packages[0]
    column_packages = tuple(case.packages[1:])
    current = [r for r in records if r.request.case_id == case.id]
    # Time-travel probes (bisection) resolved their other dependencies as of an old date: they belong to the
    # bisection report, not to the matrix of today's resolutions.
    usable = [
        r
        for r in current
        if r.request.case_hash == case.content_hash
        and r.request.parameters == case.parameters
        and not r.request.exclude_newer
    ]
    cells: dict[tuple[Version, tuple[Version, ...]], Cell] = {}
    for record in sorted(latest_per_request(usable), key=lambda r: r.started_at):
        versions = {pin.name: pin.version for pin in record.request.pins}
        if row_package not in versions or any(name not in versions for name in column_packages):
            continue
        key = (versions[row_package], tuple(versions[name] for name in column_packages))
        # Later records win, so a re-run with --fresh replaces the old verdict in the table.
        cells[key] = Cell(record.outcome, record.detail, record.key, record.request.forced, record.request.pins)
    return CaseSummary(
        case_id=case.id,
        title=case.title,
        row_package=row_package,
        column_packages=column_packages,
        rows=tuple(sorted({row for row, _ in cells})),
        columns=tuple(sorted({column for _, column in cells})),
        cells=cells,
        stale_records=sum(1 for r in current if r.request.case_hash != case.content_hash),
    )


def column_label(summary: CaseSummary, column: tuple[Version, ...]) -> str:
    return " · ".join(f"{name} {version}" for name, version in zip(summary.column_packages, column, strict=True))


def summary_to_json(summary: CaseSummary) -> dict[str, Any]:
    return {
        "case_id": summary.case_id,
        "title": summary.title,
        "rows": {"package": summary.row_package, "versions": [str(v) for v in summary.rows]},
        "columns": {
            "packages": list(summary.column_packages),
            "versions": [[str(v) for v in column] for column in summary.columns],
        },
        "counts": {outcome.value: count for outcome, count in summary.counts().items() if count},
        "cells": [
            {
                "row": str(row),
                "column": [str(v) for v in column],
                "outcome": cell.outcome.value,
                "detail": cell.detail,
                "forced": cell.forced,
                "record": cell.record_key,
            }
            for (row, column), cell in sorted(summary.cells.items())
        ],
        "stale_records": summary.stale_records,
    }


_SHORT = {
    Outcome.REPRODUCED: "**REPRODUCED**",
    Outcome.PASSED: "PASSED",
    Outcome.DIFFERENT_ERROR: "DIFFERENT_ERROR",
    Outcome.UNRESOLVABLE: "UNRESOLVABLE",
    Outcome.INSTALL_FAILED: "INSTALL_FAILED",
    Outcome.TIMEOUT: "TIMEOUT",
    Outcome.CRASHED: "CRASHED",
}


def summary_to_markdown(summary: CaseSummary) -> str:
    lines = [f"# {markdown.inline(summary.case_id)}: {markdown.inline(summary.title)}", ""]
    if not summary.cells:
        return "\n".join([*lines, "No records yet: run `nox -s repro`.", ""])
    header = [summary.row_package, *(column_label(summary, column) for column in summary.columns)]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    notes: list[str] = []
    for row in summary.rows:
        cells = [str(row)]
        for column in summary.columns:
            cell = summary.cell(row, column)
            if cell is None:
                cells.append("-")
                continue
            text = _SHORT[cell.outcome] + (" (forced)" if cell.forced else "")
            if cell.outcome not in (Outcome.REPRODUCED, Outcome.PASSED):
                notes.append(
                    f"{len(notes) + 1}. {row} · {column_label(summary, column)}: {markdown.inline(cell.detail)}"
                )
                text += f" [{len(notes)}]"
            cells.append(text)
        lines.append("| " + " | ".join(cells) + " |")
    counts = ", ".join(f"{count} {outcome.value}" for outcome, count in summary.counts().items() if count)
    lines += ["", f"{len(summary.cells)} combinations: {counts}."]
    if notes:
        lines += ["", "Why the others did not run to a verdict:", "", *notes]
    if summary.stale_records:
        lines += ["", f"{summary.stale_records} record(s) of an earlier version of this case are not shown."]
    lines += ["", "Each cell's record: `reports/records/<case>/<key>.json` (key in summary.json)."]
    return "\n".join(lines) + "\n"
