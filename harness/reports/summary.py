"""Per-case summaries of stored records: the matrix of outcomes as values, JSON and a Markdown table."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from packaging.utils import NormalizedName
from packaging.version import InvalidVersion, Version

from harness import markdown
from harness.model.case import Case, Parameters
from harness.model.outcome import Outcome
from harness.model.pins import Pin
from harness.model.probe_record import ProbeRecord


@dataclass(frozen=True)
class Cell:
    record: ProbeRecord
    """The newest record probed with this row's and this column's versions."""

    @property
    def outcome(self) -> Outcome:
        return self.record.outcome

    @property
    def detail(self) -> str:
        return self.record.detail

    @property
    def record_key(self) -> str:
        return self.record.key

    @property
    def forced(self) -> bool:
        return self.record.request.forced

    @property
    def text(self) -> str:
        """The outcome as a cell shows it; a flaky one with its counts (``FLAKY 2/6``)."""
        repeats = self.record.repeats
        if self.outcome is Outcome.FLAKY and repeats is not None:
            return f"{self.outcome.value} {repeats}"
        return self.outcome.value

    @property
    def pins(self) -> tuple[Pin, ...]:
        return self.record.request.pins


Row = Version | None
"""A version of the row package; None for records that pinned none."""
Column = tuple[Pin, ...]
"""The other pins of a record, the case's packages first in the case's order; first of all the record's Python
(a pin named ``python``) when the records span several Pythons, so that Python shows as an axis."""
PYTHON_AXIS = NormalizedName("python")


@dataclass(frozen=True)
class CaseSummary:
    """One matrix of outcomes: summary.md, summary.json and each matrix of the HTML page render this value."""

    case_id: str
    title: str
    row_package: NormalizedName | None
    column_packages: tuple[NormalizedName, ...]
    parameters: Parameters
    rows: tuple[Row, ...]
    columns: tuple[Column, ...]
    cells: Mapping[tuple[Row, Column], Cell]
    stale_records: int
    """Records of an earlier version of the case, left out of the table."""

    def cell(self, row: Row, column: Column) -> Cell | None:
        return self.cells.get((row, column))

    def counts(self) -> dict[Outcome, int]:
        totals = dict.fromkeys(Outcome, 0)
        for cell in self.cells.values():
            totals[cell.outcome] += 1
        return totals


def started_instant(record: ProbeRecord) -> float:
    """When the probe started, comparable across time zones; an unknown start is older than any known one."""
    try:
        moment = datetime.fromisoformat(record.started_at)
    except ValueError:
        return float("-inf")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def is_newer(record: ProbeRecord, than: ProbeRecord | None) -> bool:
    """The one definition of "newest record": the later start wins, and on a tie the record seen later."""
    return than is None or started_instant(record) >= started_instant(than)


def latest_per_request(records: Iterable[ProbeRecord]) -> list[ProbeRecord]:
    """The newest record for each distinct request: records merged from several machines may repeat one."""
    newest: dict[str, ProbeRecord] = {}
    for record in records:
        if is_newer(record, newest.get(record.key)):
            newest[record.key] = record
    return sorted(newest.values(), key=lambda r: (r.request.pins, r.started_at))


def in_matrix(record: ProbeRecord) -> bool:
    """Matrix cells are today's resolutions of released versions: bisection's time-travel probes and probes of
    a source tree at a commit belong to their bisection reports, not here."""
    return not record.request.exclude_newer and record.request.source is None


def summarize(case: Case, records: Iterable[ProbeRecord]) -> CaseSummary:
    """The matrix view for a case's default parameters; the case's first package gives the rows."""
    current = [r for r in records if r.request.case_id == case.id]
    fresh = [r for r in current if r.request.case_hash == case.content_hash]
    return matrix(case.id, case.title, case.packages, case.parameters, fresh, stale_records=len(current) - len(fresh))


def summaries_by_parameters(
    case_id: str, title: str, packages: Sequence[NormalizedName], records: Sequence[ProbeRecord]
) -> list[CaseSummary]:
    """One matrix per set of parameters that today's resolutions were probed with (the HTML page shows all)."""
    probed = {r.request.parameters for r in records if in_matrix(r)}
    return [matrix(case_id, title, packages, parameters, records) for parameters in sorted(probed, key=repr)]


def matrix(
    case_id: str,
    title: str,
    packages: Sequence[NormalizedName],
    parameters: Parameters,
    records: Iterable[ProbeRecord],
    *,
    stale_records: int = 0,
) -> CaseSummary:
    """The matrix of one case version's ``records`` probed with ``parameters``; ``packages[0]`` gives the rows.

    A column is every other pin of a record, so a record with fewer or more pins than the case has packages
    gets a column of its own instead of hiding another record's verdict.
    """
    row_package = packages[0] if packages else None
    rank = {name: index for index, name in enumerate(packages)}
    # Time-travel probes (bisection) resolved their other dependencies as of an old date: they belong to the
    # bisection report, not to the matrix of today's resolutions.
    shown = [r for r in records if r.request.parameters == parameters and in_matrix(r)]
    python_axis = len({r.request.python for r in shown}) > 1
    cells: dict[tuple[Row, Column], Cell] = {}
    for record in shown:
        pins = record.request.pins
        row = next((pin.version for pin in pins if pin.name == row_package), None)
        others = sorted(
            (pin for pin in pins if pin.name != row_package), key=lambda p: (rank.get(p.name, len(rank)), p.name)
        )
        key = (row, (python_pin(record.request.python), *others) if python_axis else tuple(others))
        held = cells.get(key)
        # The newest record wins, so a re-run with --fresh replaces the old verdict in the table.
        if is_newer(record, None if held is None else held.record):
            cells[key] = Cell(record)
    return CaseSummary(
        case_id=case_id,
        title=title,
        row_package=row_package,
        column_packages=((PYTHON_AXIS,) if python_axis else ()) + tuple(packages[1:]),
        parameters=parameters,
        rows=tuple(sorted({row for row, _ in cells}, key=_row_order)),
        columns=tuple(sorted({column for _, column in cells}, key=_column_order)),
        cells=cells,
        stale_records=stale_records,
    )


def python_pin(python: str) -> Pin:
    """A record's Python as a column's first pin; a request that is no version (``pypy3.10``) stays apart as a
    local version of 0."""
    try:
        return Pin(PYTHON_AXIS, Version(python))
    except InvalidVersion:
        return Pin(PYTHON_AXIS, Version("0+" + (re.sub(r"[^a-z0-9]+", ".", python.lower()).strip(".") or "unknown")))


def column_label(column: Column) -> str:
    return " · ".join(f"{pin.name} {pin.version}" for pin in column)


def row_label(row: Row) -> str:
    return "—" if row is None else str(row)


def _row_order(row: Row) -> tuple[int, Version]:
    return (1, Version("0")) if row is None else (0, row)


def _column_order(column: Column) -> list[tuple[str, Version]]:
    return [(pin.name, pin.version) for pin in column]


def summary_to_json(summary: CaseSummary) -> dict[str, Any]:
    return {
        "case_id": summary.case_id,
        "title": summary.title,
        "parameters": dict(summary.parameters),
        "rows": {"package": summary.row_package, "versions": [None if v is None else str(v) for v in summary.rows]},
        "columns": {
            "packages": list(summary.column_packages),
            "versions": [[str(pin.version) for pin in column] for column in summary.columns],
            "labels": [column_label(column) for column in summary.columns],
        },
        "counts": {outcome.value: count for outcome, count in summary.counts().items() if count},
        "cells": [
            {
                "row": None if row is None else str(row),
                "column": [str(pin.version) for pin in column],
                "outcome": cell.outcome.value,
                "text": cell.text,
                "detail": cell.detail,
                "forced": cell.forced,
                "record": cell.record_key,
            }
            for row in summary.rows
            for column in summary.columns
            if (cell := summary.cell(row, column)) is not None
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
    Outcome.FLAKY: "**FLAKY**",
    Outcome.SETUP_FAILED: "SETUP_FAILED",
    Outcome.UNAVAILABLE: "UNAVAILABLE",
}


def summary_to_markdown(summary: CaseSummary) -> str:
    lines = [f"# {markdown.inline(summary.case_id)}: {markdown.inline(summary.title)}", ""]
    if not summary.cells:
        return "\n".join([*lines, "No records yet: run `nox -s repro`.", ""])
    header = [summary.row_package or "", *(column_label(column) for column in summary.columns)]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    notes: list[str] = []
    for row in summary.rows:
        cells = [row_label(row)]
        for column in summary.columns:
            cell = summary.cell(row, column)
            if cell is None:
                cells.append("-")
                continue
            text = _SHORT[cell.outcome] + cell.text.removeprefix(cell.outcome.value)
            text += " (forced)" if cell.forced else ""
            if cell.outcome not in (Outcome.REPRODUCED, Outcome.PASSED):
                notes.append(
                    f"{len(notes) + 1}. {row_label(row)} · {column_label(column)}: {markdown.inline(cell.detail)}"
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
