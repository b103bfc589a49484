"""The record store: one JSON file per probe under ``reports/records/<case>/``, written atomically."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from harness import markdown
from harness.files import write_json
from harness.model.probe_record import ProbeRecord, record_from_json, record_to_json


class RecordStore:
    """Records keyed by the hash of their request; copying files between stores merges them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.unreadable: list[Path] = []
        """Files under ``root`` that are not probe records, in the order met; see ``report_unreadable``."""
        self.reasons: dict[Path, str] = {}
        """Why each of ``unreadable`` is not a probe record."""

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
            text = _read_regular_file(path)
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            return self._skip(path, getattr(exc, "strerror", None) or str(exc))
        try:
            return record_from_json(json.loads(text))
        except RecursionError:
            return self._skip(path, "nested too deeply")
        except ValueError as exc:
            # A truncated or foreign file must not stop a run: note it, treat the probe as not yet done.
            reason = "not valid JSON, perhaps cut short" if isinstance(exc, json.JSONDecodeError) else str(exc)
            return self._skip(path, reason)

    def _skip(self, path: Path, reason: str) -> ProbeRecord | None:
        """Note ``path`` as not a probe record; no record stands for it."""
        self.unreadable.append(path)
        self.reasons.setdefault(path, reason)
        return None


def _read_regular_file(path: Path) -> str:
    """The file's text; anything but a regular file (a FIFO would block a reader forever) is an OSError."""
    # Opened without blocking and checked on the open descriptor, so a FIFO swapped in after a check cannot hang.
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(0, "not a regular file")
        return handle.read().decode("utf-8")


def report_unreadable(store: RecordStore, stream: TextIO | None = None) -> None:
    """Name, once each, the files the store skipped as not probe records; then forget them.

    Called once per command, after the records have been read, so a stray file is neither silently ignored
    nor reported again for every probe that looked it up.
    """
    out = sys.stderr if stream is None else stream
    for path in dict.fromkeys(store.unreadable):
        reason = store.reasons.get(path, "unreadable")
        out.write(f"harness: skipped {_shown(path)}: not a probe record ({markdown.safe_line(reason, 200)})\n")
    store.unreadable.clear()
    store.reasons.clear()


def _shown(path: Path) -> Path:
    # Relative to the current folder when under it, as the user would type it (reports/records/<case>/x.json).
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
