"""uv's own lock file, ``uv.lock``: one entry per locked package, forks narrowed by ``resolution-markers``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.pinsources.interface import (
    Entry,
    Location,
    MarkerEnvironment,
    PinnedEntry,
    SkippedEntry,
    SkipReason,
    array_of_tables,
    load_toml,
    locked_name,
    locked_version,
    marker_holds,
    parse_marker,
    string_list,
)

_INDEX_SOURCE = "registry"


def parse_uv_lock(text: str, source: str, *, environment: MarkerEnvironment | None = None) -> tuple[Entry, ...]:
    """Every ``[[package]]``; an entry applies when one of its forks' markers holds for ``environment``.

    uv.lock is universal, so it also pins packages only other platforms install: those do not apply. A package
    that does not come from an index carries uv's word for its source (``editable``, ``virtual``, ``git``...).
    """
    data = load_toml(text, source)
    entries: list[Entry] = []
    for index, package in enumerate(array_of_tables(data, "package", source)):
        location = Location(source, field="package", index=index)
        name = locked_name(package, location)
        forks = string_list(package.get("resolution-markers", []), f"{location}: field 'resolution-markers'")
        # uv writes ordinary PEP 508 markers here (with extra == "..." for conflicting extras).
        applies = not forks or any(marker_holds(parse_marker(fork, location), location, environment) for fork in forks)
        direct = _direct_source(package)
        version = locked_version(package, location)
        if version is None:
            entries.append(SkippedEntry(SkipReason.UNPINNED, location, name, name, applies, direct_source=direct))
        else:
            entries.append(PinnedEntry(name, version, location, name, applies, direct_source=direct))
    return tuple(entries)


def _direct_source(package: Mapping[str, Any]) -> str | None:
    origin = package.get("source", {})
    kinds = sorted(origin) if isinstance(origin, dict) else []
    return None if not kinds or _INDEX_SOURCE in kinds else kinds[0]
