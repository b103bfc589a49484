"""PEP 751 lock files (``pylock.toml``, ``pylock.NAME.toml``), read and validated by ``packaging.pylock``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from packaging.pylock import Package, Pylock, PylockValidationError
from packaging.version import InvalidVersion, Version

from harness.errors import ConfigError
from harness.pinsources.interface import (
    Entry,
    Location,
    MarkerEnvironment,
    PinnedEntry,
    SkippedEntry,
    SkipReason,
    array_of_tables,
    first_line,
    load_toml,
    locked_name,
    locked_version,
    marker_holds,
    parse_marker,
)

_SUPPORTED = (Version("1"), Version("2.dev0"))


def load_pylock(text: str, source: str, *, legacy_sdists: bool = False) -> Pylock:
    """The validated lock; anything that is not PEP 751 is a ConfigError naming the file and the field.

    The version comes first, since a 2.x file need not look like 1.x at all, then the fields the harness
    reads, so their errors speak its words; ``packaging.pylock`` then checks everything else PEP 751 asks.
    With ``legacy_sdists`` (for locks uv wrote, which it installs), an sdist named before PEP 625 is accepted.
    """
    data = load_toml(text, source)
    _check_lock_version(data.get("lock-version"), source)
    for index, package in enumerate(array_of_tables(data, "packages", source)):
        _check_read_fields(package, Location(source, field="packages", index=index))
    if legacy_sdists:
        data = _legacy_sdists_set_aside(data)
    try:
        return Pylock.from_dict(data)
    except PylockValidationError as exc:
        field = f"field '{exc.context}': " if exc.context else ""
        raise ConfigError(
            f"{source}: {field}{first_line(exc.message or exc)} (not a valid PEP 751 lock file)"
        ) from None


_PEP_625_SUFFIXES = (".tar.gz", ".zip")


def _legacy_sdists_set_aside(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` without the sdists whose file names predate PEP 625 (``python-dateutil-2.4.1.tar.bz2``), which
    ``packaging.pylock`` refuses: dropped where the package has wheels, else read as the archive file they are."""
    packages = []
    for package in data.get("packages", []):
        sdist = package.get("sdist")
        if isinstance(sdist, Mapping) and not _pep_625_named(sdist):
            kept = {key: value for key, value in package.items() if key != "sdist"}
            if not kept.get("wheels"):
                kept["archive"] = {key: value for key, value in sdist.items() if key != "name"}
            packages.append(kept)
        else:
            packages.append(package)
    return {**data, "packages": packages}


def _pep_625_named(sdist: Mapping[str, Any]) -> bool:
    named = next((sdist[key] for key in ("name", "path", "url") if isinstance(sdist.get(key), str)), None)
    # Without any name, packaging.pylock's own error says what is missing.
    return named is None or urlsplit(named).path.rsplit("/", 1)[-1].endswith(_PEP_625_SUFFIXES)


def _check_lock_version(value: object, source: str) -> None:
    if not isinstance(value, str):
        raise ConfigError(f"{source}: field 'lock-version': expected \"1.x\" (PEP 751), got {value!r}")
    try:
        supported = _SUPPORTED[0] <= Version(value) < _SUPPORTED[1]
    except InvalidVersion:
        supported = False
    if not supported:
        raise ConfigError(f"{source}: lock-version {value} is not supported; expected 1.x (PEP 751)")


def _check_read_fields(package: Mapping[str, Any], location: Location) -> None:
    locked_name(package, location)
    locked_version(package, location)
    marker = package.get("marker")
    if marker is not None and not isinstance(marker, str):
        raise ConfigError(f"{location}: field 'marker': expected a string")
    if marker is not None:
        parse_marker(marker, location)


def parse_pylock(text: str, source: str, *, environment: MarkerEnvironment | None = None) -> tuple[Entry, ...]:
    """Every package of the lock; one applies when its ``marker`` holds for ``environment`` (PEP 751's context).

    A package from a direct source carries the source's kind (``vcs``, ``directory``, ``archive``).
    """
    entries: list[Entry] = []
    for index, package in enumerate(load_pylock(text, source).packages):
        location = Location(source, field="packages", index=index)
        applies = marker_holds(package.marker, location, environment, lock_file=True)
        direct = direct_source(package)
        if package.version is None:
            entries.append(
                SkippedEntry(SkipReason.UNPINNED, location, package.name, package.name, applies, direct_source=direct)
            )
        else:
            entries.append(
                PinnedEntry(package.name, package.version, location, package.name, applies, direct_source=direct)
            )
    return tuple(entries)


def direct_source(package: Package) -> str | None:
    """The kind of direct source a package comes from, or None for one installed from an index's files."""
    if package.vcs is not None:
        return "vcs"
    if package.directory is not None:
        return "directory"
    return "archive" if package.archive is not None else None
