"""Writes the human and machine reports under ``reports/`` from whatever records are stored there."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

from harness.bisection.stored import StoredBisection, bisection_from_json
from harness.errors import ConfigError
from harness.files import read_json_object, write_atomically, write_json
from harness.model.case import Case
from harness.model.known_bad import KNOWN_BAD_FILE, KnownBadRange, known_bad_from_json
from harness.probing.record_store import report_unreadable
from harness.reports.html.page import render_index, write_index
from harness.reports.summary import CaseSummary, summarize, summary_to_json, summary_to_markdown
from harness.sweep.table import sweep_tables, sweep_to_json, sweep_to_markdown
from harness.workspace import Workspace


def read_bisections(paths: Sequence[Path]) -> list[StoredBisection]:
    """The bisection reports that can be read; each one that cannot is named on stderr and skipped.

    Reports copied in from other machines may be half-written: one bad file must not stop the rest.
    """
    found = []
    for path in paths:
        data = read_json_object(path)
        try:
            if data is None:
                raise ValueError("not a readable JSON object")
            found.append(bisection_from_json(data))
        except ValueError as exc:
            _skipped(path, str(exc))
    return found


def read_known_bad(path: Path) -> tuple[KnownBadRange, ...]:
    """The known-bad ranges for the page; none when the file is missing, and a note on stderr when it is bad."""
    if not path.is_file():
        return ()
    data = read_json_object(path)
    if data is None:
        _skipped(path, "not a readable JSON object")
        return ()
    try:
        return known_bad_from_json(data, str(path))
    except ConfigError as exc:
        _skipped(path, str(exc))
        return ()


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
    bisections = read_bisections(sorted(reports.glob("bisect/*.json")))
    known_bad = read_known_bad(reports / KNOWN_BAD_FILE)
    generated_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    write_index(reports / "index.html", render_index(cases, records, bisections, known_bad, generated_at=generated_at))
    return summaries


def _skipped(path: Path, why: str) -> None:
    print(f"skipped {path}: {why}", file=sys.stderr)
