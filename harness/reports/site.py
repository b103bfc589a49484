"""Writes the human and machine reports under ``reports/`` from whatever records are stored there."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.files import read_json_object, write_atomically, write_json
from harness.model.case import Case
from harness.probing.record_store import report_unreadable
from harness.reports.html import render_index, write_index
from harness.reports.summary import CaseSummary, summarize, summary_to_json, summary_to_markdown
from harness.sweep.table import sweep_tables, sweep_to_json, sweep_to_markdown
from harness.workspace import Workspace

KNOWN_BAD_FILE = "known-bad.json"


def read_json_files(paths: Sequence[Path]) -> list[dict[str, Any]]:
    return [data for data in map(read_json_object, paths) if data is not None]


def write_reports(workspace: Workspace, cases: Sequence[Case]) -> list[CaseSummary]:
    """Rebuild every summary and the HTML page from all stored records, so copied-in records merge."""
    store = workspace.records
    reports = workspace.reports_dir
    records = list(store.records())
    report_unreadable(store)
    summaries = []
    for case in cases:
        summary = summarize(case, records)
        folder = reports / case.id
        write_json(folder / "summary.json", summary_to_json(summary))
        write_atomically(folder / "summary.md", summary_to_markdown(summary))
        summaries.append(summary)
        tables = sweep_tables(case, records)
        if tables:
            write_json(folder / "sweep.json", [sweep_to_json(table) for table in tables])
            write_atomically(folder / "sweep.md", sweep_to_markdown(case, tables))
    bisections = read_json_files(sorted(reports.glob("bisect/*.json")))
    known_bad = next(iter(read_json_files([reports / KNOWN_BAD_FILE])), None)
    generated_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    write_index(reports / "index.html", render_index(cases, records, bisections, known_bad, generated_at=generated_at))
    return summaries
