"""Exact pins from the files projects keep: requirements, pyproject.toml, uv.lock, pylock.toml, installed packages.

The gate asks "does any recorded case reproduce with *these* versions?", so every source must name one exact
version per package. A watched package that is not pinned exactly is an error (the gate cannot guess what an
upgrade would install); packages nobody watches are ignored whatever their form. ``watched=None`` means every
package is watched. A wheel (path or URL) is pinned by its file name; a URL or VCS source named with ``#egg=``
counts as unpinned; one that names no package is an error, since it might be a watched one; a local directory
(``.``, ``-e ./lib``) is the project under development, not a candidate, and is skipped. Constraint files
(``-c``) pin packages that something installs but add none of their own.

Pure parsers take text and a ``source`` label used in error messages; the ``read_*`` functions at the bottom are
the only ones that touch the filesystem or the running interpreter.
"""

from __future__ import annotations

import enum
import importlib.metadata
import re
import shlex
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import InvalidWheelFilename, NormalizedName, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from harness.errors import ConfigError
from harness.model.pins import Pin, pin_set

Watched = AbstractSet[NormalizedName] | None
"""Package names the gate cares about; None means all of them."""

MarkerEnvironment = Mapping[str, str] | None
"""Overrides of the marker environment (``python_version``...); None evaluates for the running interpreter."""


class CandidateFormat(enum.Enum):
    REQUIREMENTS = "requirements"
    PYPROJECT = "pyproject"
    UV_LOCK = "uv.lock"
    PYLOCK = "pylock"


_PYLOCK_NAME = re.compile(r"^pylock\.([^.]+\.)?toml$")


def detect_format(path: Path | str) -> CandidateFormat:
    """Tell the format from the file name alone, the way pip, uv and PEP 751 name these files."""
    name = Path(path).name
    if name == "pyproject.toml":
        return CandidateFormat.PYPROJECT
    if name == "uv.lock":
        return CandidateFormat.UV_LOCK
    if _PYLOCK_NAME.match(name):
        return CandidateFormat.PYLOCK
    if name.startswith("requirements") or name.endswith((".txt", ".in")):
        return CandidateFormat.REQUIREMENTS
    raise ConfigError(
        f"{path}: cannot tell the format from the name; expected requirements*.txt, *.in, pyproject.toml, "
        "uv.lock or pylock[.NAME].toml"
    )


@dataclass(frozen=True)
class Location:
    """Where an input came from, for error messages: ``file:line`` or ``file: field``."""

    source: str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.source}:{self.line}"
        return f"{self.source}: {self.field}" if self.field else self.source


@dataclass(frozen=True)
class RequirementEntry:
    """One requirement as written, reduced to what the gate needs."""

    location: Location
    text: str
    name: NormalizedName
    specifier: SpecifierSet
    exact: Version | None
    """The single version the entry allows, or None when it allows a range (or a URL without a version)."""
    marker: Marker | None = None
    constraint: bool = False
    """From a ``-c`` file: it pins a version if the package is installed, but does not install it."""


@dataclass(frozen=True)
class IncludeEntry:
    """A ``-r``/``-c`` line; the reader resolves ``target`` relative to the file that contains it."""

    location: Location
    target: str
    constraint: bool


RequirementsLine = RequirementEntry | IncludeEntry


# --- requirements files -------------------------------------------------------------------------------------------

_COMMENT = re.compile(r"(^|\s+)#.*$")
_EGG = re.compile(r"#(?:.*&)?egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
_NAMED_URL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")
_INCLUDE_OPTIONS = {"-r": False, "--requirement": False, "-c": True, "--constraint": True}
_EDITABLE_OPTIONS = ("-e", "--editable")
_VCS = re.compile(r"^(git|hg|svn|bzr)\+")
_ARCHIVES = (".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")


def parse_requirements(text: str, source: str, *, constraint: bool = False) -> tuple[RequirementsLine, ...]:
    """Parse pip's requirements format: comments, continuations, ``-r``/``-c`` includes, per-line options."""
    lines: list[RequirementsLine] = []
    for number, line in _logical_lines(text):
        location = Location(source, number)
        if line.startswith("-"):
            lines.extend(_option_line(line, location, constraint))
        else:
            lines.extend(_requirement_line(line, location, constraint))
    return tuple(lines)


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Join backslash continuations and drop comments; yields (first physical line number, text)."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if raw.endswith("\\"):
            pending.append(raw[:-1])
            continue
        pending.append(raw)
        line = _COMMENT.sub("", " ".join(pending)).strip()
        pending = []
        if line:
            yield start, line
    if pending:
        line = _COMMENT.sub("", " ".join(pending)).strip()
        if line:
            yield start, line


def _option_line(line: str, location: Location, constraint: bool) -> list[RequirementsLine]:
    try:
        tokens = shlex.split(line)
    except ValueError as exc:
        raise ConfigError(f"{location}: cannot split the option line ({exc})") from None
    option, sep, value = tokens[0].partition("=")
    if not sep and option[:2] in ("-r", "-c", "-e") and len(option) > 2:
        option, value = option[:2], option[2:]  # pip accepts "-rfile" as well as "-r file"
    elif not sep and len(tokens) > 1:
        value = tokens[1]
    if option in _INCLUDE_OPTIONS:
        if not value:
            raise ConfigError(f"{location}: {option} needs a file name")
        return [IncludeEntry(location, value, constraint or _INCLUDE_OPTIONS[option])]
    if option in _EDITABLE_OPTIONS:
        return [*_unversioned_source(value, line, location, constraint)]
    return []  # index, find-links, --pre, --hash-only lines...: they do not change which versions are named


def _requirement_line(line: str, location: Location, constraint: bool) -> list[RequirementEntry]:
    # Per-requirement options (--hash, --config-settings) start at the first token that begins with "-".
    tokens = line.split()
    end = next((i for i, token in enumerate(tokens) if token.startswith("-")), len(tokens))
    text = " ".join(tokens[:end])
    if not text:
        raise ConfigError(f"{location}: options without a requirement: {line!r}")
    head = text.partition(";")[0].strip()
    if _looks_like_file(head):
        return _file_line(text, location, constraint)
    return [requirement_entry(text, location, constraint=constraint)]


def _looks_like_file(head: str) -> bool:
    if _NAMED_URL.match(head):
        return False  # PEP 508 "name @ url": the name is given
    return "/" in head or "\\" in head or head.startswith(".") or head.endswith((".whl", *_ARCHIVES))


def _file_line(text: str, location: Location, constraint: bool) -> list[RequirementEntry]:
    """A wheel, archive, directory or VCS URL given without ``name @``."""
    target, _, marker_text = text.partition(";")
    marker = _parse_marker(marker_text.strip(), location) if marker_text.strip() else None
    wheel = _wheel_pin(target.strip())
    if wheel is not None:
        specifier = SpecifierSet(f"=={wheel.version}")
        return [RequirementEntry(location, text, wheel.name, specifier, wheel.version, marker, constraint)]
    return [replace(entry, marker=marker) for entry in _unversioned_source(target.strip(), text, location, constraint)]


def _unversioned_source(target: str, text: str, location: Location, constraint: bool) -> list[RequirementEntry]:
    """A source without a version: named by ``#egg=`` it is an unpinned entry; a local directory is skipped."""
    egg = _EGG.search(target)
    if egg is not None:
        return [
            RequirementEntry(location, text, canonicalize_name(egg.group(1)), SpecifierSet(), None, None, constraint)
        ]
    if "://" not in target and not _VCS.match(target) and not target.endswith(_ARCHIVES):
        return []  # a local directory: the project under development, not a released candidate
    raise ConfigError(
        f"{location}: cannot tell which package {target!r} installs; write NAME @ URL, add #egg=NAME "
        "or pin NAME==VERSION"
    )


def _wheel_pin(target: str) -> Pin | None:
    filename = unquote(urlsplit(target).path.replace("\\", "/").rsplit("/", 1)[-1])
    if not filename.endswith(".whl"):
        return None
    try:
        name, version, _, _ = parse_wheel_filename(filename)
    except (InvalidWheelFilename, InvalidVersion):
        return None
    return Pin(name, version)


def _parse_marker(text: str, location: Location) -> Marker:
    try:
        return Marker(text)
    except InvalidMarker as exc:
        raise ConfigError(f"{location}: invalid environment marker {text!r}: {_first_line(exc)}") from None


def requirement_entry(text: str, location: Location, *, constraint: bool = False) -> RequirementEntry:
    """Parse one PEP 508 requirement into an entry; a malformed one is a ConfigError naming its location."""
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        raise ConfigError(f"{location}: invalid requirement {text!r}: {_first_line(exc)}") from None
    name = canonicalize_name(requirement.name)
    exact = _exact_version(requirement.specifier, text, location)
    if exact is None and requirement.url:
        wheel = _wheel_pin(requirement.url)
        if wheel is not None and wheel.name == name:
            exact = wheel.version
    return RequirementEntry(location, text, name, requirement.specifier, exact, requirement.marker, constraint)


def _exact_version(specifier: SpecifierSet, text: str, location: Location) -> Version | None:
    exact = {spec.version for spec in specifier if spec.operator in ("==", "===") and not spec.version.endswith(".*")}
    if not exact:
        return None
    try:
        versions = {Version(version) for version in exact}
    except InvalidVersion:
        raise ConfigError(
            f"{location}: {text!r} pins a version that is not PEP 440; the gate cannot compare it"
        ) from None
    version = versions.pop()
    if versions or not specifier.contains(version, prereleases=True):
        raise ConfigError(f"{location}: {text!r} can never be satisfied; keep one ==VERSION")
    return version


def pins_from_requirements(
    entries: Iterable[RequirementEntry],
    *,
    watched: Watched = None,
    environment: MarkerEnvironment = None,
    extra: str = "",
) -> tuple[Pin, ...]:
    """The exact pin of every watched package, after markers; unpinned or conflicting watched entries raise."""
    by_name: dict[NormalizedName, list[RequirementEntry]] = {}
    for entry in entries:
        if (watched is None or entry.name in watched) and _applies(entry.marker, entry.location, environment, extra):
            by_name.setdefault(entry.name, []).append(entry)
    return pin_set(pin for group in by_name.values() if (pin := _pin_of(group)) is not None)


def _pin_of(group: Sequence[RequirementEntry]) -> Pin | None:
    pinned = [entry for entry in group if entry.exact is not None]
    if not pinned:
        required = [entry for entry in group if not entry.constraint]
        if not required:
            return None  # a loose constraint on a package nothing requires installs nothing
        first = required[0]
        raise ConfigError(
            f"{first.location}: {first.text!r} does not pin an exact version of watched package {first.name}; "
            f"write {first.name}==VERSION or use a lock file"
        )
    chosen = pinned[0]
    assert chosen.exact is not None
    for entry in group:
        if entry.exact is not None and entry.exact != chosen.exact:
            raise ConfigError(
                f"{entry.location}: {entry.text!r} conflicts with {chosen.text!r} at {chosen.location}; "
                f"keep one version of {entry.name}"
            )
        if not entry.specifier.contains(chosen.exact, prereleases=True):
            raise ConfigError(
                f"{entry.location}: {entry.text!r} excludes {chosen.name}=={chosen.exact} pinned at {chosen.location}"
            )
    return Pin(chosen.name, chosen.exact)


def _applies(
    marker: Marker | None,
    location: Location,
    environment: MarkerEnvironment,
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
        raise ConfigError(f"{location}: cannot evaluate marker {str(marker)!r}: {_first_line(exc)}") from None


# --- pyproject.toml -----------------------------------------------------------------------------------------------


def parse_pyproject(
    text: str,
    source: str,
    *,
    extras: Sequence[str] = (),
    watched: Watched = None,
    environment: MarkerEnvironment = None,
) -> tuple[Pin, ...]:
    """Exact pins from PEP 621 ``project.dependencies`` plus the named ``optional-dependencies`` groups."""
    project = _table(_loads(text, source), "project", source, "no [project] table (PEP 621)")
    dependencies = project.get("dependencies")
    if dependencies is None and "dependencies" in _string_list(project.get("dynamic", []), source, "project.dynamic"):
        raise ConfigError(f"{source}: project.dependencies is dynamic; pass a requirements or lock file instead")
    optional = _table(project, "optional-dependencies", source, "", required=False)
    groups = {canonicalize_name(name): (name, value) for name, value in optional.items()}
    own_name = canonicalize_name(str(project.get("name", "")))

    entries = _group_entries(
        dependencies or [], source, "project.dependencies", "", watched=watched, environment=environment
    )
    pending = [canonicalize_name(extra) for extra in extras]
    seen: set[NormalizedName] = set()
    while pending:
        extra = pending.pop(0)
        if extra in seen:
            continue
        seen.add(extra)
        if extra not in groups:
            known = ", ".join(sorted(name for name, _ in groups.values())) or "none"
            raise ConfigError(f"{source}: no optional-dependencies group {extra!r}; groups: {known}")
        raw_name, values = groups[extra]
        entries += _group_entries(
            values, source, f"project.optional-dependencies.{raw_name}", extra, watched=watched, environment=environment
        )
        # A group may pull in other groups of the same project ("proj[cuda]"); follow those too.
        for requirement_text in values:
            pending += sorted(canonicalize_name(name) for name in _self_extras(requirement_text, own_name))
    # All groups are checked together, so "foo==1" in one and "foo>=2" in another is reported as a conflict.
    return pins_from_requirements([entry for entry in entries if entry.name != own_name], watched=watched)


def _group_entries(
    values: object, source: str, field: str, extra: str, *, watched: Watched, environment: MarkerEnvironment
) -> list[RequirementEntry]:
    """The group's watched entries whose markers hold (evaluated with ``extra`` set to the group's name)."""
    entries = [
        requirement_entry(text, Location(source, field=f"{field}[{index}]"))
        for index, text in enumerate(_string_list(values, source, field))
    ]
    return [
        replace(entry, marker=None)
        for entry in entries
        if (watched is None or entry.name in watched) and _applies(entry.marker, entry.location, environment, extra)
    ]


def _self_extras(text: str, own_name: NormalizedName) -> set[str]:
    requirement = Requirement(text)  # already validated by _group_entries
    return requirement.extras if canonicalize_name(requirement.name) == own_name else set()


# --- lock files ---------------------------------------------------------------------------------------------------


def parse_uv_lock(
    text: str, source: str, *, watched: Watched = None, environment: MarkerEnvironment = None
) -> tuple[Pin, ...]:
    """Exact pins from a ``uv.lock``; forked resolutions are narrowed by their ``resolution-markers``."""
    data = _loads(text, source)
    packages = _tables(data, "package", source)
    chosen = []
    for index, package in enumerate(packages):
        markers = _string_list(package.get("resolution-markers", []), source, f"package[{index}].resolution-markers")
        location = Location(source, field=f"package[{index}]")
        # uv writes ordinary PEP 508 markers here (with extra == "..." for conflicting extras).
        if not markers or any(_applies(_parse_marker(m, location), location, environment) for m in markers):
            chosen.append((location, package))
    return _lock_pins(chosen, source, watched)


def parse_pylock(
    text: str, source: str, *, watched: Watched = None, environment: MarkerEnvironment = None
) -> tuple[Pin, ...]:
    """Exact pins from a PEP 751 ``pylock.toml``, keeping the packages whose ``marker`` holds here."""
    data = _loads(text, source)
    lock_version = data.get("lock-version")
    if not isinstance(lock_version, str):
        raise ConfigError(f"{source}: no lock-version string; this is not a PEP 751 pylock file")
    if lock_version.split(".")[0] != "1":
        raise ConfigError(f"{source}: lock-version {lock_version} is not supported; expected 1.x")
    chosen = []
    for index, package in enumerate(_tables(data, "packages", source)):
        location = Location(source, field=f"packages[{index}]")
        marker = package.get("marker")
        if marker is not None and not isinstance(marker, str):
            raise ConfigError(f"{location}: marker: expected a string")
        if marker is None or _applies(_parse_marker(marker, location), location, environment, lock_file=True):
            chosen.append((location, package))
    return _lock_pins(chosen, source, watched)


def _lock_pins(chosen: Sequence[tuple[Location, Mapping[str, Any]]], source: str, watched: Watched) -> tuple[Pin, ...]:
    pins: list[Pin] = []
    for location, package in chosen:
        raw_name = package.get("name")
        if not isinstance(raw_name, str) or not raw_name:
            raise ConfigError(f"{location}: name: expected a package name string")
        name = canonicalize_name(raw_name)
        if watched is not None and name not in watched:
            continue
        version = package.get("version")
        if version is None:
            # A source tree or VCS checkout without a static version; only an explicit watch makes it an error.
            if watched is not None:
                raise ConfigError(f"{location}: watched package {name} has no version in the lock file")
            continue
        if not isinstance(version, str):
            raise ConfigError(f"{location}: version of {name}: expected a string")
        try:
            pins.append(Pin(name, Version(version)))
        except InvalidVersion:
            raise ConfigError(f"{location}: {name} version {version!r} is not a valid version (PEP 440)") from None
    return _merge_checked(pins, source)


# --- explicit candidates and the running environment --------------------------------------------------------------


def parse_candidate_options(texts: Iterable[str], *, watched: Watched = None) -> tuple[Pin, ...]:
    """Pins from ``--candidate NAME==VERSION`` options."""
    pins = []
    for text in texts:
        try:
            pins.append(Pin.parse(text))
        except ConfigError as exc:
            raise ConfigError(f"--candidate: {exc}") from None
    return _merge_checked([pin for pin in pins if watched is None or pin.name in watched], "--candidate")


class InstalledDistribution(Protocol):
    """What the gate reads of an installed distribution; ``importlib.metadata.Distribution`` fits."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...


def environment_candidates(
    distributions: Iterable[InstalledDistribution], *, watched: Watched = None
) -> tuple[Pin, ...]:
    """Pins of the installed distributions; the first of duplicates wins, as it does for ``import``."""
    seen: dict[NormalizedName, Pin] = {}
    for distribution in distributions:
        raw_name = distribution.name
        if not raw_name:
            continue  # a broken .dist-info without a Name field; nothing can import it by name either
        name = canonicalize_name(raw_name)
        if name in seen or (watched is not None and name not in watched):
            continue
        try:
            seen[name] = Pin(name, Version(distribution.version))
        except InvalidVersion:
            raise ConfigError(
                f"installed distribution {raw_name} has version {distribution.version!r}, which is not PEP 440"
            ) from None
    return pin_set(seen.values())


def merge_candidates(*groups: Iterable[Pin]) -> tuple[Pin, ...]:
    """Combine candidate sources; a later group overrides an earlier one package by package."""
    merged: dict[NormalizedName, Pin] = {}
    for group in groups:
        for pin in group:
            merged[pin.name] = pin
    return pin_set(merged.values())


def _merge_checked(pins: Iterable[Pin], source: str) -> tuple[Pin, ...]:
    by_name: dict[NormalizedName, Pin] = {}
    for pin in pins:
        other = by_name.setdefault(pin.name, pin)
        if other.version != pin.version:
            raise ConfigError(f"{source}: {pin.name} is pinned to both {other.version} and {pin.version}")
    return pin_set(by_name.values())


# --- helpers for TOML data ----------------------------------------------------------------------------------------


def _loads(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {_first_line(exc)}") from None


def _table(data: Mapping[str, Any], key: str, source: str, missing: str, *, required: bool = True) -> dict[str, Any]:
    value = data.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: {missing or f'{key}: expected a table'}")
    return value


def _tables(data: Mapping[str, Any], key: str, source: str) -> list[Mapping[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ConfigError(f"{source}: {key}: expected an array of tables ([[{key}]])")
    return value


def _string_list(value: object, source: str, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{source}: {field}: expected a list of strings")
    return value


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --- the edge: files and the running interpreter ------------------------------------------------------------------


def read_requirements(path: Path, *, watched: Watched = None, environment: MarkerEnvironment = None) -> tuple[Pin, ...]:
    """Read a requirements file and everything it includes with ``-r``/``-c`` (relative to the including file)."""
    return pins_from_requirements(_collect(path, None, False, ()), watched=watched, environment=environment)


def _collect(
    path: Path, referenced_at: Location | None, constraint: bool, stack: tuple[Path, ...]
) -> list[RequirementEntry]:
    resolved = path.resolve()
    if resolved in stack:
        raise ConfigError(f"{referenced_at}: including {path} again forms a cycle of -r/-c files")
    entries: list[RequirementEntry] = []
    for line in parse_requirements(_read_text(path, referenced_at), str(path), constraint=constraint):
        if isinstance(line, RequirementEntry):
            entries.append(line)
            continue
        if "://" in line.target:
            raise ConfigError(f"{line.location}: remote include {line.target!r} is not supported; download it first")
        entries += _collect(path.parent / line.target, line.location, line.constraint, (*stack, resolved))
    return entries


def read_pyproject(
    path: Path, *, extras: Sequence[str] = (), watched: Watched = None, environment: MarkerEnvironment = None
) -> tuple[Pin, ...]:
    return parse_pyproject(_read_text(path), str(path), extras=extras, watched=watched, environment=environment)


def read_uv_lock(path: Path, *, watched: Watched = None, environment: MarkerEnvironment = None) -> tuple[Pin, ...]:
    return parse_uv_lock(_read_text(path), str(path), watched=watched, environment=environment)


def read_pylock(path: Path, *, watched: Watched = None, environment: MarkerEnvironment = None) -> tuple[Pin, ...]:
    return parse_pylock(_read_text(path), str(path), watched=watched, environment=environment)


def read_candidates(
    path: Path,
    *,
    format: CandidateFormat | None = None,
    extras: Sequence[str] = (),
    watched: Watched = None,
    environment: MarkerEnvironment = None,
) -> tuple[Pin, ...]:
    """Read any supported file; the format comes from the file name unless given."""
    chosen = format or detect_format(path)
    if extras and chosen is not CandidateFormat.PYPROJECT:
        raise ConfigError(f"{path}: optional-dependency groups only apply to pyproject.toml")
    if chosen is CandidateFormat.REQUIREMENTS:
        return read_requirements(path, watched=watched, environment=environment)
    if chosen is CandidateFormat.PYPROJECT:
        return read_pyproject(path, extras=extras, watched=watched, environment=environment)
    if chosen is CandidateFormat.UV_LOCK:
        return read_uv_lock(path, watched=watched, environment=environment)
    return read_pylock(path, watched=watched, environment=environment)


def read_environment(*, watched: Watched = None) -> tuple[Pin, ...]:
    """Pins of the distributions installed in the running interpreter."""
    return environment_candidates(importlib.metadata.distributions(), watched=watched)


def _read_text(path: Path, referenced_at: Location | None = None) -> str:
    prefix = f"{referenced_at}: " if referenced_at is not None else ""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{prefix}{path}: file not found") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{prefix}{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{prefix}{path}: cannot read ({exc.strerror})") from None
