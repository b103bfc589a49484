"""What every pin-file reader returns: pinned and skipped entries, where they came from, and the file's format."""

from __future__ import annotations

import enum
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from harness.errors import ConfigError
from harness.model.pins import Pin

# Marker variables (``python_version``, ``sys_platform`` ...) that override the running interpreter's.
MarkerEnvironment = Mapping[str, str]


class PinFormat(enum.Enum):
    REQUIREMENTS = "requirements"
    """pip's requirements format, which ``pip freeze`` and ``uv pip compile`` also write."""
    PYPROJECT = "pyproject"
    """PEP 621 ``project.dependencies`` and ``optional-dependencies``."""
    UV_LOCK = "uv.lock"
    PYLOCK = "pylock"
    """A PEP 751 lock file (``pylock.toml``, ``pylock.<name>.toml``)."""


_PYLOCK_NAME = re.compile(r"^pylock\.([^.]+\.)?toml$")


def detect_format(path: Path | str, *, default: PinFormat | None = None) -> PinFormat:
    """Tell the format from the file name alone, the way pip, uv and PEP 751 name these files.

    A name that fits no format gives ``default``; without one it is a ConfigError.
    """
    name = Path(path).name
    if name == "pyproject.toml":
        return PinFormat.PYPROJECT
    if name == "uv.lock":
        return PinFormat.UV_LOCK
    if _PYLOCK_NAME.match(name):
        return PinFormat.PYLOCK
    if name.startswith("requirements") or name.endswith((".txt", ".in")):
        return PinFormat.REQUIREMENTS
    if default is not None:
        return default
    raise ConfigError(
        f"{path}: cannot tell the format from the name; expected requirements*.txt, *.in, pyproject.toml, "
        "uv.lock or pylock[.NAME].toml"
    )


@dataclass(frozen=True)
class Location:
    """Where an entry came from: ``file:line`` in a text file, ``file: table[index]`` or ``file: field`` in TOML."""

    source: str
    line: int | None = None
    field: str | None = None
    """A TOML array (``packages``) or dotted field (``project.dependencies``)."""
    index: int | None = None
    """The 0-based position in ``field``, as TOML tools and ``packaging.pylock`` count."""

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.source}:{self.line}"
        if self.field is None:
            return self.source
        return f"{self.source}: {self.field}" + (f"[{self.index}]" if self.index is not None else "")


class SkipReason(enum.Enum):
    """Why an entry yields no pin; whether that is an error is the caller's choice."""

    UNPINNED = "does not name one exact version"
    UNSATISFIABLE = "pins versions that exclude each other"
    DIRECT_SOURCE = "installs from a URL, VCS or archive that names no version"
    LOCAL_PROJECT = "is a local directory: a project under development, not a release"
    UNKNOWN_OPTION = "is an option the requirements reader does not know"
    INVALID_VERSION = "has a version that is not PEP 440"
    SHADOWED = "is shadowed by an earlier distribution of the same name"
    NO_NAME = "has no name"


@dataclass(frozen=True)
class PinnedEntry:
    """An entry that names exactly one version of one package."""

    name: NormalizedName
    version: Version
    location: Location
    text: str
    """The entry as written (a requirement line, or a lock entry's name), for messages."""
    applies: bool = True
    """Its environment marker holds for the target environment (or it has none)."""
    specifier: SpecifierSet = field(default_factory=SpecifierSet)
    """Everything a requirement line allows (empty for lock entries), for callers that check the rest of it."""
    direct_source: str | None = None
    """The file's word for a source that is not a package index (``url``, ``path``, ``git``, ``editable``...)."""
    constraint: bool = False
    """From a ``-c`` file: it pins a version if the package is installed, but does not install it."""

    @property
    def pin(self) -> Pin:
        return Pin(self.name, self.version)


@dataclass(frozen=True)
class SkippedEntry:
    """An entry that yields no pin, and why; a value, so each caller decides how strict to be."""

    reason: SkipReason
    location: Location
    text: str
    name: NormalizedName | None = None
    """The package it concerns, when the entry names one."""
    applies: bool = True
    specifier: SpecifierSet = field(default_factory=SpecifierSet)
    direct_source: str | None = None
    editable: bool = False
    constraint: bool = False


Entry = PinnedEntry | SkippedEntry


# --- shared by the readers ----------------------------------------------------------------------------------------


def read_text(path: Path, referenced_at: Location | None = None) -> str:
    """A pin file's text; a missing or unreadable one is a ConfigError naming it (and who included it)."""
    prefix = f"{referenced_at}: " if referenced_at is not None else ""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{prefix}{path}: file not found") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{prefix}{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{prefix}{path}: cannot read ({exc.strerror})") from None


def load_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {first_line(exc)}") from None


def parse_marker(text: str, location: Location) -> Marker:
    try:
        return Marker(text)
    except InvalidMarker as exc:
        raise ConfigError(f"{location}: invalid marker {text!r} ({first_line(exc)})") from None


def marker_holds(
    marker: Marker | None,
    location: Location,
    environment: MarkerEnvironment | None,
    extra: str = "",
    *,
    lock_file: bool = False,
) -> bool:
    """Evaluate a marker for the running interpreter (or the overrides); lock files use PEP 751's context."""
    if marker is None:
        return True
    overrides: dict[str, str] = {} if lock_file else {"extra": extra}
    overrides |= environment or {}
    try:
        return marker.evaluate(overrides, context="lock_file" if lock_file else "metadata")
    except Exception as exc:  # packaging raises UndefinedComparison/UndefinedEnvironmentName, not one base
        raise ConfigError(f"{location}: cannot evaluate marker {str(marker)!r}: {first_line(exc)}") from None


def first_line(problem: BaseException | str) -> str:
    """The first line of an error's text: packaging's messages can span several, a ConfigError has one."""
    text = str(problem).strip()
    return text.splitlines()[0] if text else type(problem).__name__


# --- shared by the TOML readers -----------------------------------------------------------------------------------


def array_of_tables(data: Mapping[str, Any], key: str, source: str) -> list[Mapping[str, Any]]:
    entries = data.get(key)
    if entries is None:
        raise ConfigError(f"{source}: no [[{key}]] entries; is this the right file?")
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise ConfigError(f"{source}: field '{key}': expected an array of tables ([[{key}]])")
    return entries


def string_list(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: expected a list of strings")
    return value


def locked_name(entry: Mapping[str, Any], location: Location) -> NormalizedName:
    """A lock entry's package name, which both lock formats require."""
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{location}: field 'name': expected a package name string (missing or not a string)")
    return canonicalize_name(name)


def locked_version(entry: Mapping[str, Any], location: Location) -> Version | None:
    """A lock entry's version; None when the entry has none (a source tree without a static version)."""
    version = entry.get("version")
    if version is None:
        return None
    if not isinstance(version, str):
        raise ConfigError(f"{location}: field 'version': expected a string")
    try:
        return Version(version)
    except InvalidVersion:
        raise ConfigError(
            f"{location}: {entry.get('name')} version {version!r} is not a valid version (PEP 440)"
        ) from None
