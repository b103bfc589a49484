"""Parameter sweeps as values: for one set of versions, which parameter combinations reproduce the failure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from harness import markdown
from harness.model.case import Case, Parameters
from harness.model.outcome import Outcome
from harness.model.pins import Pin
from harness.model.probe_record import ProbeRecord
from harness.reports.summary import latest_per_request


@dataclass(frozen=True)
class SweepRow:
    parameters: Parameters
    outcome: Outcome
    detail: str


@dataclass(frozen=True)
class SweepTable:
    pins: tuple[Pin, ...]
    parameter_names: tuple[str, ...]
    rows: tuple[SweepRow, ...]

    @property
    def reproducing(self) -> tuple[SweepRow, ...]:
        return tuple(row for row in self.rows if row.outcome is Outcome.REPRODUCED)


def sweep_tables(case: Case, records: Iterable[ProbeRecord]) -> list[SweepTable]:
    """One table per set of pins that was probed with more than one parameter combination."""
    by_pins: dict[tuple[Pin, ...], list[ProbeRecord]] = {}
    for record in latest_per_request(r for r in records if r.request.case_id == case.id):
        if record.request.case_hash == case.content_hash and not record.request.exclude_newer:
            by_pins.setdefault(record.request.pins, []).append(record)
    names = tuple(dict.fromkeys([*(name for name, _ in case.parameters), *(name for name, _ in case.sweep)]))
    tables = []
    for pins, group in sorted(by_pins.items()):
        if len({r.request.parameters for r in group}) < 2:
            continue
        rows = sorted(
            (SweepRow(r.request.parameters, r.outcome, r.detail) for r in group),
            key=lambda row: tuple(str(value) for _, value in row.parameters),
        )
        tables.append(SweepTable(pins, names, tuple(rows)))
    return tables


def sweep_to_json(table: SweepTable) -> dict[str, Any]:
    return {
        "pins": [str(pin) for pin in table.pins],
        "rows": [
            {"parameters": dict(row.parameters), "outcome": row.outcome.value, "detail": row.detail}
            for row in table.rows
        ],
        "reproducing": [dict(row.parameters) for row in table.reproducing],
    }


def sweep_to_markdown(case: Case, tables: Iterable[SweepTable]) -> str:
    lines = [f"# Does it hit my configuration? {markdown.inline(case.id)}", ""]
    for table in tables:
        lines += [f"## {markdown.inline(', '.join(str(pin) for pin in table.pins))}", ""]
        lines += ["| " + " | ".join([*table.parameter_names, "outcome"]) + " |"]
        lines += ["|" + "---|" * (len(table.parameter_names) + 1)]
        for row in table.rows:
            values = dict(row.parameters)
            cells = [markdown.inline(str(values.get(name, ""))) for name in table.parameter_names]
            label = f"**{row.outcome.value}**" if row.outcome is Outcome.REPRODUCED else row.outcome.value
            lines.append("| " + " | ".join([*cells, label]) + " |")
        lines += ["", f"{len(table.reproducing)} of {len(table.rows)} combinations reproduce the failure.", ""]
    return "\n".join(lines)
