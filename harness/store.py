"""The record store: one JSON file per probe under ``reports/records/<case>/``, written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.records import ProbeRecord, record_from_json, record_to_json


def write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader or a Ctrl-C never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_json_object(path: Path) -> dict[str, Any] | None:
    """A JSON object from a file, or None when it is missing, unreadable or not an object.

    Reports copied in from other machines may be half-written; a reader skips them rather than stopping.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json(path: Path, data: Any) -> None:
    write_atomically(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


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
