"""The distributions installed for an interpreter (``importlib.metadata``), one entry per name."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable
from typing import Protocol

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from harness.pinsources.interface import Entry, Location, PinnedEntry, SkippedEntry, SkipReason


class InstalledDistribution(Protocol):
    """What is read of an installed distribution; ``importlib.metadata.Distribution`` fits."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...


def installed_entries(
    distributions: Iterable[InstalledDistribution] | None = None, *, source: str = "installed distributions"
) -> tuple[Entry, ...]:
    """An entry per distribution (default: the running interpreter's), in ``sys.path`` order.

    The first of duplicates wins, as it does for ``import``; the later ones are skipped as shadowed.
    """
    found = importlib.metadata.distributions() if distributions is None else distributions
    location = Location(source)
    seen: set[NormalizedName] = set()
    entries: list[Entry] = []
    for distribution in found:
        raw_name, raw_version = distribution.name, distribution.version
        text = f"{raw_name}=={raw_version}"
        if not raw_name:
            # A broken .dist-info without a Name field; nothing can import it by name either.
            entries.append(SkippedEntry(SkipReason.NO_NAME, location, text))
            continue
        name = canonicalize_name(raw_name)
        if name in seen:
            entries.append(SkippedEntry(SkipReason.SHADOWED, location, text, name))
            continue
        seen.add(name)
        try:
            entries.append(PinnedEntry(name, Version(raw_version), location, text))
        except InvalidVersion:
            entries.append(SkippedEntry(SkipReason.INVALID_VERSION, location, text, name))
    return tuple(entries)
