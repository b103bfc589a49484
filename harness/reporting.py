"""Writes the human and machine reports under ``reports/`` from whatever records are stored there."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harness.case import Case
from harness.store import RecordStore, write_atomically, write_json
from harness.summary import CaseSummary, summarize, summary_to_json, summary_to_markdown


def write_summaries(reports_dir: Path, store: RecordStore, cases: Sequence[Case]) -> list[CaseSummary]:
    """Rebuild every case's summary from all stored records, so records copied in from CI jobs merge."""
    summaries = []
    for case in cases:
        summary = summarize(case, store.records(case.id))
        folder = reports_dir / case.id
        write_json(folder / "summary.json", summary_to_json(summary))
        write_atomically(folder / "summary.md", summary_to_markdown(summary))
        summaries.append(summary)
    return summaries
