"""Records round-trip through JSON and the store, and summaries pick the newest verdict per combination."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from harness.model.case import Case, RecordedEnvironment
from harness.model.outcome import Outcome
from harness.model.pins import Pin
from harness.model.probe_record import ProbeRecord, ProbeRequest, Timings, record_from_json, record_to_json
from harness.model.signature import Signature
from harness.probing.record_store import RecordStore
from harness.reports.summary import (
    column_label,
    summaries_by_parameters,
    summarize,
    summary_to_json,
    summary_to_markdown,
)

CASE = Case(
    id="demo",
    title="Demo",
    directory=Path("/cases/demo"),
    packages=("fakepkg", "fakedep"),  # type: ignore[arg-type]
    parameters=(("n", 3),),
    signature=Signature("E"),
    recorded=RecordedEnvironment("3.11", ()),
    timeout_seconds=10,
    content_hash="h1",
)


def record(
    pkg: str, dep: str, outcome: Outcome, started: str, *, case_hash: str = "h1", detail: str = ""
) -> ProbeRecord:
    request = ProbeRequest("demo", case_hash, (("n", 3),), (Pin.of("fakepkg", pkg), Pin.of("fakedep", dep)), "3.11")
    return ProbeRecord(request, outcome, detail or outcome.value, started_at=started, timings=Timings(1, 2, 3))


def test_record_json_round_trip_and_key_stability() -> None:
    original = record("1.5", "2.0", Outcome.REPRODUCED, "2026-01-01T00:00:00")
    assert record_from_json(record_to_json(original)) == original
    other_order = ProbeRequest("demo", "h1", (("n", 3),), tuple(reversed(original.request.pins)), "3.11")
    assert other_order.key == original.key
    assert ProbeRequest("demo", "h2", (("n", 3),), original.request.pins, "3.11").key != original.key


def test_store_skips_unreadable_files(tmp_path: Path) -> None:
    store = RecordStore(tmp_path)
    kept = record("1.5", "2.0", Outcome.REPRODUCED, "t")
    store.put(kept)
    (tmp_path / "demo" / "broken.json").write_text("{not json")
    assert list(store.records("demo")) == [kept]
    assert store.get("demo", kept.key) == kept
    assert [p.name for p in store.unreadable] == ["broken.json"]


def test_summary_takes_newest_record_and_ignores_stale_case_versions() -> None:
    records = [
        record("1.5", "2.0", Outcome.INSTALL_FAILED, "2026-01-01T00:00:00", detail="network down"),
        record("1.5", "2.0", Outcome.REPRODUCED, "2026-01-02T00:00:00"),
        record("1.3", "2.0", Outcome.PASSED, "2026-01-01T00:00:00"),
        record("1.3", "1.0", Outcome.UNRESOLVABLE, "2026-01-01T00:00:00", detail="fakepkg 1.3 | needs fakedep>=2"),
        record("1.9", "2.0", Outcome.REPRODUCED, "2026-01-01T00:00:00", case_hash="old"),
    ]
    summary = summarize(CASE, records)
    assert [str(v) for v in summary.rows] == ["1.3", "1.5"]
    cells = {(c["row"], tuple(c["column"])): c["outcome"] for c in summary_to_json(summary)["cells"]}
    assert cells == {("1.3", ("1.0",)): "UNRESOLVABLE", ("1.3", ("2.0",)): "PASSED", ("1.5", ("2.0",)): "REPRODUCED"}
    assert summary.stale_records == 1
    text = summary_to_markdown(summary)
    assert "| fakepkg | fakedep 1.0 | fakedep 2.0 |" in text
    assert "| 1.5 | - | **REPRODUCED** |" in text
    # The reason for every unusable cell is given, with table syntax from the message escaped.
    assert "UNRESOLVABLE [1]" in text
    assert r"fakepkg 1.3 \| needs fakedep>=2" in text.replace("&gt;", ">")


def test_the_html_page_and_summary_md_share_one_matrix() -> None:
    records = [
        record("1.5", "2.0", Outcome.REPRODUCED, "2026-01-02T00:00:00"),
        record("1.3", "2.0", Outcome.PASSED, "2026-01-01T00:00:00"),
        record("1.9", "2.0", Outcome.REPRODUCED, "2026-01-01T00:00:00", case_hash="old"),
    ]
    fresh = [r for r in records if r.request.case_hash == CASE.content_hash]
    summary = summarize(CASE, records)
    (shown,) = summaries_by_parameters(CASE.id, CASE.title, CASE.packages, fresh)
    assert replace(shown, stale_records=summary.stale_records) == summary


def test_a_record_without_every_case_package_gets_a_column_of_its_own() -> None:
    alone = ProbeRequest("demo", "h1", (("n", 3),), (Pin.of("fakepkg", "1.5"),), "3.11")
    records = [
        record("1.5", "2.0", Outcome.REPRODUCED, "2026-01-01T00:00:00"),
        ProbeRecord(alone, Outcome.PASSED, "ok"),
    ]
    summary = summarize(CASE, records)
    assert [column_label(column) for column in summary.columns] == ["", "fakedep 2.0"]
    assert "| fakepkg |  | fakedep 2.0 |" in summary_to_markdown(summary)
