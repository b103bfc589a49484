"""Read a good and a bad environment (requirements/freeze text, pylock.toml, uv.lock) and diff their pins."""

from __future__ import annotations

import enum
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from harness.errors import ConfigError
from harness.model.pins import Pin, pin_set

MarkerEnvironment = Mapping[str, str]
"""Marker variables (``python_version``, ``sys_platform`` ...) overriding the running interpreter's."""


class EnvironmentFormat(enum.Enum):
    REQUIREMENTS = "requirements"
    """``pip freeze`` / ``uv pip freeze`` output or a fully pinned requirements file."""
    PYLOCK = "pylock"
    """A PEP 751 lock file (``pylock.toml``, ``pylock.<name>.toml``)."""
    UV_LOCK = "uv.lock"


_PYLOCK_NAME = re.compile(r"^pylock\.([^.]+\.)?toml$")


def format_of(path: Path) -> EnvironmentFormat:
    """Guess the format from the file name, as the tools that write these files name them."""
    if path.name == "uv.lock":
        return EnvironmentFormat.UV_LOCK
    if _PYLOCK_NAME.match(path.name):
        return EnvironmentFormat.PYLOCK
    return EnvironmentFormat.REQUIREMENTS


# --- requirements / freeze text -----------------------------------------------------------------------------------

# Options that say where to fetch from or how to build, never which version: they do not change the pins.
_IGNORED_OPTIONS = frozenset(
    {
        "-i",
        "--index-url",
        "--extra-index-url",
        "-f",
        "--find-links",
        "--no-index",
        "--pre",
        "--trusted-host",
        "--prefer-binary",
        "--only-binary",
        "--no-binary",
        "--use-feature",
        "--require-hashes",
    }
)
_INCLUDE_OPTIONS = frozenset({"-r", "--requirement", "-c", "--constraint"})
_EDITABLE_OPTIONS = frozenset({"-e", "--editable"})
_INLINE_COMMENT = re.compile(r"(^|\s+)#.*$")
# Per-requirement options (``--hash=...`` from ``uv pip compile --generate-hashes``) follow the requirement.
_PER_REQUIREMENT_OPTION = re.compile(r"\s+--?[A-Za-z]")
_FREEZE_HINT = (
    "pin it as NAME==VERSION or delete the line (`pip list --format=freeze` writes such packages as NAME==VERSION)"
)


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    """Lines with comments removed and backslash continuations joined, each with its first line number."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        line = _INLINE_COMMENT.sub("", raw)
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        joined = " ".join(pending).strip()
        pending = []
        if joined:
            yield start, joined
    joined = " ".join(pending).strip()
    if joined:
        yield start, joined


def _option_name(line: str) -> str:
    return re.split(r"[\s=]", line, maxsplit=1)[0]


def _marker_holds(marker: Marker | None, environment: MarkerEnvironment | None) -> bool:
    if marker is None:
        return True
    return marker.evaluate(dict(environment) if environment is not None else None)


def _pin_from_requirement_line(line: str, where: str, environment: MarkerEnvironment | None) -> Pin | None:
    """One requirement line as a pin, None when its marker excludes it, ConfigError when it is not a plain pin."""
    requirement_text = _PER_REQUIREMENT_OPTION.split(line, maxsplit=1)[0]
    try:
        requirement = Requirement(requirement_text)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0]
        raise ConfigError(f"{where}: {line!r} is not a requirement ({reason}); expected NAME==VERSION") from None
    if requirement.url is not None:
        raise ConfigError(f"{where}: {line!r} installs from a URL or path, which is not supported; {_FREEZE_HINT}")
    if not _marker_holds(requirement.marker, environment):
        return None
    specifiers = list(requirement.specifier)
    if len(specifiers) != 1 or specifiers[0].operator not in ("==", "===") or "*" in specifiers[0].version:
        raise ConfigError(
            f"{where}: {line!r} does not pin one version; use `pip freeze` or `uv pip compile` output (NAME==VERSION)"
        )
    try:
        return Pin(canonicalize_name(requirement.name), Version(specifiers[0].version))
    except InvalidVersion:
        raise ConfigError(f"{where}: {specifiers[0].version!r} is not a valid version (PEP 440)") from None


def parse_requirements(
    text: str, *, source: str = "<requirements>", environment: MarkerEnvironment | None = None
) -> tuple[Pin, ...]:
    """Pins from ``pip freeze`` output or a fully pinned requirements file.

    Comments, blank lines, ``--hash`` options and index options are skipped; a line whose environment marker is
    false for ``environment`` (default: the running interpreter) is left out. Editable installs, URL/path
    requirements, includes (``-r``/``-c``) and unpinned requirements are errors naming the line.
    """
    found: list[tuple[Pin, str]] = []
    for number, line in _logical_lines(text):
        where = f"{source}:{number}"
        if line.startswith("-"):
            option = _option_name(line)
            if option in _IGNORED_OPTIONS:
                continue
            if option in _EDITABLE_OPTIONS:
                raise ConfigError(
                    f"{where}: {line!r} is an editable install, which is not supported; {_FREEZE_HINT} "
                    "(for `uv export`, add --no-emit-project)"
                )
            if option in _INCLUDE_OPTIONS:
                raise ConfigError(
                    f"{where}: {line!r} includes another file, which is not supported; "
                    "pass one flat list of pins (`pip freeze`, `uv pip compile`)"
                )
            raise ConfigError(f"{where}: unknown option {option!r}; expected NAME==VERSION lines")
        pin = _pin_from_requirement_line(line, where, environment)
        if pin is not None:
            found.append((pin, where))
    return _unique(found)


def _unique(found: Iterable[tuple[Pin, str]]) -> tuple[Pin, ...]:
    """Reject a package pinned to two versions; the same pin twice is harmless."""
    first: dict[NormalizedName, tuple[Pin, str]] = {}
    for pin, where in found:
        earlier = first.setdefault(pin.name, (pin, where))
        if earlier[0] != pin:
            raise ConfigError(
                f"{where}: {pin.name} is pinned to {pin.version} here but to {earlier[0].version} at {earlier[1]}; "
                "keep one version per package (or pass marker values for the target environment)"
            )
    return pin_set(pin for pin, _ in first.values())


# --- TOML lock files ----------------------------------------------------------------------------------------------


def _load_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None


def _tables(data: Mapping[str, Any], key: str, source: str) -> list[Mapping[str, Any]]:
    entries = data.get(key)
    if entries is None:
        raise ConfigError(f"{source}: no [[{key}]] entries; is this the right file?")
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise ConfigError(f"{source}: field '{key}': expected an array of tables ([[{key}]])")
    return entries


def _string_field(entry: Mapping[str, Any], field: str, where: str) -> str | None:
    value = entry.get(field)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{where}: field '{field}': expected a string")
    return value


def _parse_marker(text: str, where: str) -> Marker:
    try:
        return Marker(text)
    except InvalidMarker as exc:
        raise ConfigError(f"{where}: invalid marker {text!r} ({str(exc).splitlines()[0]})") from None


def _locked_pin(entry: Mapping[str, Any], where: str) -> Pin:
    name = _string_field(entry, "name", where)
    version = _string_field(entry, "version", where)
    if not name:
        raise ConfigError(f"{where}: field 'name': expected a string (the field is missing)")
    if not version:
        raise ConfigError(f"{where}: {name} has no version; pin it to a released version")
    return Pin.of(name, version)


_PYLOCK_DIRECT_SOURCES = ("vcs", "directory", "archive")


def parse_pylock(
    text: str, *, source: str = "pylock.toml", environment: MarkerEnvironment | None = None
) -> tuple[Pin, ...]:
    """Pins from a PEP 751 lock file; entries whose ``marker`` is false for ``environment`` are left out."""
    data = _load_toml(text, source)
    lock_version = data.get("lock-version")
    if not isinstance(lock_version, str) or not lock_version.startswith("1."):
        raise ConfigError(f"{source}: field 'lock-version': expected \"1.x\" (PEP 751), got {lock_version!r}")
    found: list[tuple[Pin, str]] = []
    for index, entry in enumerate(_tables(data, "packages", source), start=1):
        where = f"{source}: packages[{index}]"
        direct = next((key for key in _PYLOCK_DIRECT_SOURCES if key in entry), None)
        if direct is not None:
            raise ConfigError(
                f"{where}: {entry.get('name', '?')} comes from a {direct} source, which is not supported; "
                "lock it from an index or remove the entry (for `uv export`, add --no-emit-project)"
            )
        marker = _string_field(entry, "marker", where)
        if marker is not None and not _marker_holds(_parse_marker(marker, where), environment):
            continue
        found.append((_locked_pin(entry, where), where))
    return _unique(found)


# uv.lock lists the project itself and its workspace members under these sources: they are not dependencies.
_UV_OWN_SOURCES = frozenset({"editable", "virtual"})
_UV_INDEX_SOURCES = frozenset({"registry"})


def parse_uv_lock(
    text: str, *, source: str = "uv.lock", environment: MarkerEnvironment | None = None
) -> tuple[Pin, ...]:
    """Pins from a ``uv.lock``; the project's own (editable/virtual) entries are skipped.

    A forked resolution lists a package once per fork with ``resolution-markers``; the fork matching
    ``environment`` is kept. uv.lock is universal, so it also pins packages only other platforms install.
    """
    data = _load_toml(text, source)
    found: list[tuple[Pin, str]] = []
    for index, entry in enumerate(_tables(data, "package", source), start=1):
        where = f"{source}: package[{index}]"
        origin = entry.get("source", {})
        kinds = set(origin) if isinstance(origin, dict) else set()
        if kinds & _UV_OWN_SOURCES:
            continue
        if kinds and not kinds & _UV_INDEX_SOURCES:
            raise ConfigError(
                f"{where}: {entry.get('name', '?')} comes from a {sorted(kinds)[0]} source, which is not supported; "
                "export the environment with `uv export --no-emit-project` and drop that line"
            )
        forks = entry.get("resolution-markers")
        if forks is not None:
            if not isinstance(forks, list) or not all(isinstance(fork, str) for fork in forks):
                raise ConfigError(f"{where}: field 'resolution-markers': expected a list of strings")
            if forks and not any(_marker_holds(_parse_marker(fork, where), environment) for fork in forks):
                continue
        found.append((_locked_pin(entry, where), where))
    return _unique(found)


def parse_environment(
    text: str, kind: EnvironmentFormat, *, source: str, environment: MarkerEnvironment | None = None
) -> tuple[Pin, ...]:
    parsers = {
        EnvironmentFormat.REQUIREMENTS: parse_requirements,
        EnvironmentFormat.PYLOCK: parse_pylock,
        EnvironmentFormat.UV_LOCK: parse_uv_lock,
    }
    return parsers[kind](text, source=source, environment=environment)


def read_environment(
    path: Path, kind: EnvironmentFormat | None = None, *, environment: MarkerEnvironment | None = None
) -> tuple[Pin, ...]:
    """Read and parse one environment file; the format follows the file name unless ``kind`` is given."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    return parse_environment(text, kind or format_of(path), source=str(path), environment=environment)
