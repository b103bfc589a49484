"""One validating record codec: every malformed record is one ValueError with its reason; what is written is capped."""

from __future__ import annotations

import io
import json
import os
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.model.outcome import Outcome
from harness.model.probe_record import TEXT_LIMITS, capped, record_from_json, record_to_json
from harness.probing.record_store import RecordStore, report_unreadable
from tests.unit.test_summary_and_store import record

GOOD = record_to_json(record("1.5", "2.0", Outcome.DIFFERENT_ERROR, "2026-01-01T00:00:00"))


def changed(**fields: Any) -> dict[str, Any]:
    return {**json.loads(json.dumps(GOOD)), **fields}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (None, "expected a JSON object, got null"),
        ([], "expected a JSON object, got a list"),
        ("record", "expected a JSON object, got text"),
        ({}, "field 'schema' is missing"),
        (changed(schema=2), "unsupported record schema 2"),
        (changed(case_id=None), "field 'case_id': expected text, got null"),
        (changed(case_id="../../elsewhere"), "field 'case_id': '../../elsewhere' is not a case id"),
        (changed(parameters=[]), "field 'parameters': expected an object, got a list"),
        (changed(parameters={"n": [1]}), "field 'parameters.n': expected a string, number or boolean, got a list"),
        (changed(requested={"fakepkg": "1.x.y"}), "field 'requested.fakepkg': '1.x.y' is not a valid version"),
        (changed(requested={"fakepkg": 1.5}), "field 'requested.fakepkg': expected a version, got a number"),
        (changed(requested={"/etc/x": "1.0"}), "field 'requested': '/etc/x' is not a package name"),
        (changed(outcome="GREAT"), "field 'outcome': 'GREAT' is not an outcome"),
        (changed(detail=None), "field 'detail': expected text, got null"),
        (changed(error=[]), "field 'error': expected an object or null, got a list"),
        (changed(error={"type": 3}), "field 'error.type': expected text or null, got a number"),
        (changed(timings={"run": "fast"}), "field 'timings.run': expected a number of seconds, got 'fast'"),
        (changed(timings={"run": True}), "field 'timings.run': expected a number of seconds, got True"),
        (changed(forced="yes"), "field 'forced': expected true or false, got text"),
        (changed(current_packages="einops"), "field 'current_packages': expected a list of texts, got text"),
        (changed(resolved=None), None),  # optional fields may be null
        (changed(sources=[1]), "field 'sources': expected an object, got a list"),
    ],
)
def test_every_malformed_record_is_one_value_error_with_the_reason(data: object, reason: str | None) -> None:
    if reason is None:
        assert record_from_json(data).resolved == ()
        return
    with pytest.raises(ValueError) as raised:
        record_from_json(data)
    assert type(raised.value) is ValueError
    assert str(raised.value) == reason


def test_untrusted_texts_are_capped_when_written_with_the_cut_marked() -> None:
    huge = "x" * 3_000_000
    big = replace(
        record("1.5", "2.0", Outcome.DIFFERENT_ERROR, "t"),
        detail=huge,
        error_type="builtins.ValueError",
        error_message=huge,
        traceback_tail="start\n" + huge + "\nValueError: the end",
        installer_message=huge,
    )
    data = record_to_json(big)
    assert len(json.dumps(data)) < 100_000
    assert data["error"]["message"].endswith(f"[... {3_000_000 - TEXT_LIMITS['message']} characters cut ...]")
    assert data["error"]["traceback_tail"].endswith("ValueError: the end")
    assert data["error"]["traceback_tail"].startswith("[... ")
    assert record_from_json(data).detail.startswith("xxx")
    assert capped("short", 10) == "short"


def test_a_fifo_named_like_a_record_is_skipped_without_blocking(tmp_path: Path) -> None:
    store = RecordStore(tmp_path)
    kept = record("1.5", "2.0", Outcome.REPRODUCED, "t")
    store.put(kept)
    os.mkfifo(tmp_path / "demo" / "x.json")
    found: list[object] = []
    reader = threading.Thread(target=lambda: found.extend(store.records()), daemon=True)
    reader.start()
    reader.join(timeout=5)
    assert not reader.is_alive(), "reading the records blocked on a FIFO"
    assert found == [kept]
    out = io.StringIO()
    report_unreadable(store, out)
    assert out.getvalue().endswith("x.json: not a probe record (not a regular file)\n")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (json.dumps(GOOD)[:-40], "not valid JSON, perhaps cut short"),
        ("null", "expected a JSON object, got null"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (json.dumps(changed(requested={"fakepkg": "bad version"})), "is not a valid version"),
        (b"\xff\xfe{}", "utf-8"),
    ],
)
def test_a_bad_file_is_named_once_with_its_reason_and_never_stops_the_others(
    tmp_path: Path, content: str | bytes, reason: str
) -> None:
    store = RecordStore(tmp_path)
    kept = record("1.5", "2.0", Outcome.REPRODUCED, "t")
    store.put(kept)
    bad = tmp_path / "demo" / "bad.json"
    bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert list(store.records()) == [kept]
    assert store.get("demo", "bad") is None
    out = io.StringIO()
    report_unreadable(store, out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"harness: skipped {bad}: not a probe record (")
    assert reason in lines[0]
