"""Tolerant readers for report JSON: a missing or odd field reads as empty instead of failing the file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from harness.bisection.search import BisectVerdict, Direction, SearchStatus
from harness.model.outcome import Outcome

E = TypeVar("E", Outcome, Direction, SearchStatus, BisectVerdict)


def share(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 1:
        return float(value)
    return None


# --- small helpers -----------------------------------------------------------------------------------------------


def enum(kind: type[E], value: object) -> E | None:
    try:
        return kind(value)
    except ValueError:
        return None


def text_of(value: object) -> str | None:
    """A version, name or time: stripped, and None when empty or not text."""
    if value is None or isinstance(value, Mapping | list | tuple | bool):
        return None
    text = str(value).strip()
    return text or None


def string(value: object) -> str | None:
    """Free text (a message, a command), kept as written."""
    return value if isinstance(value, str) else None


def texts(value: object) -> tuple[str, ...]:
    return tuple(text for text in map(text_of, list_of(value)) if text)


def list_of(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def mapping_of(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def mappings(value: object) -> list[Mapping[str, Any]]:
    return [item for item in list_of(value) if isinstance(item, Mapping)]
