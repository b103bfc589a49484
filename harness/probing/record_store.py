"""The record store: one JSON file per probe under ``reports/records/<case>/``, written atomically."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from harness.files import write_json
from harness.model.probe_record import ProbeRecord, record_from_json, record_to_json


class RecordStore:
    """Records keyed by the hash of their request; copying files between stores merges them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.unreadable: list[Path] = []

    def path_for(self, case_id: str, key: str) -> Path:
        return self.root / case_id / f"{key}.json"

    def get(self, case_id: str, key: str) -> ProbeRecord | None:
        return self._load(self.path_for(case_id, key))

    def put(self, record: ProbeRecord) -> Path:
        path = self.path_for(record.request.case_id, record.key)
        write_json(path, record_to_json(record))
        return path

    def records(self, case_id: str | None = None) -> Iterator[ProbeRecord]:
        folders = [self.root / case_id] if case_id else sorted(p for p in self.root.glob("*") if p.is_dir())
        for folder in folders:
            for path in sorted(folder.glob("*.json")):
                record = self._load(path)
                if record is not None:
                    yield record

    def _load(self, path: Path) -> ProbeRecord | None:
        try:
            return record_from_json(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            # A truncated or foreign file must not stop a run: note it, treat the probe as not yet done.
            self.unreadable.append(path)
            return None
