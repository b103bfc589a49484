"""Writing files so that no reader and no Ctrl-C ever sees half of one, and reading JSON objects tolerantly."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def _file_mode() -> int:
    """What an ordinary new file gets under this process's umask (mkstemp's own 0600 would hide reports)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


FILE_MODE = _file_mode()


def write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader or a Ctrl-C never sees half a file.

    Text that cannot be encoded (a lone surrogate from a decoded byte string) is replaced, not fatal: one
    character must never cost a report.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as handle:
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
