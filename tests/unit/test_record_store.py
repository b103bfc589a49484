"""A file in the record store that is not a probe record is named once per command, then forgotten."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from harness.model.outcome import Outcome
from harness.probing.record_store import RecordStore, report_unreadable
from harness.reports.site import write_reports
from harness.workspace import Workspace
from tests.unit.test_summary_and_store import CASE, record


def test_each_unreadable_file_is_reported_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = RecordStore(tmp_path / "reports" / "records")
    kept = record("1.5", "2.0", Outcome.REPRODUCED, "t")
    store.put(kept)
    (store.root / "demo" / "broken.json").write_text("{not json")
    assert list(store.records()) == [kept]
    store.get("demo", "broken")  # a lookup of the same file does not make it a second line
    out = io.StringIO()
    report_unreadable(store, out)
    assert out.getvalue() == (
        "harness: skipped reports/records/demo/broken.json: not a probe record (not valid JSON, perhaps cut short)\n"
    )
    report_unreadable(store, out)
    assert out.getvalue().count("\n") == 1


def test_a_clean_store_reports_nothing(tmp_path: Path) -> None:
    store = RecordStore(tmp_path)
    store.put(record("1.5", "2.0", Outcome.REPRODUCED, "t"))
    list(store.records())
    out = io.StringIO()
    report_unreadable(store, out)
    assert out.getvalue() == ""


def test_rebuilding_the_reports_names_the_skipped_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workspace = Workspace(tmp_path)
    workspace.records.put(record("1.5", "2.0", Outcome.REPRODUCED, "t"))
    stray = workspace.records.root / "demo" / "notes.json"
    stray.write_text('{"hello": "world"}')
    write_reports(workspace, [CASE])
    assert capsys.readouterr().err == f"harness: skipped {stray}: not a probe record (field 'schema' is missing)\n"
    assert (tmp_path / "reports" / "demo" / "summary.md").is_file()
