"""pip's requirements format (also ``pip freeze`` and ``uv pip compile`` output), with ``-r``/``-c`` includes.

Every line becomes a pinned entry, a skipped entry or an include; only a line that is not valid at all (an
invalid requirement or marker, a version that is not PEP 440, an option line that cannot be split) is an error.
A wheel (path or URL) is pinned by its file name; a URL or VCS source names its package with ``#egg=`` or
``name @``, or no package at all; a local directory (``.``, ``-e ./lib``) is a project under development.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from harness.errors import ConfigError
from harness.model.pins import Pin
from harness.pinsources.interface import (
    Entry,
    Location,
    MarkerEnvironment,
    PinnedEntry,
    SkippedEntry,
    SkipReason,
    first_line,
    marker_holds,
    parse_marker,
    read_text,
)


@dataclass(frozen=True)
class IncludeEntry:
    """A ``-r``/``-c`` line; :func:`read_requirements` resolves ``target`` relative to the file that contains it."""

    location: Location
    target: str
    constraint: bool


RequirementsLine = Entry | IncludeEntry

# pip's comment rule: "#" at the start or after whitespace, so "#egg=" and "#sha256=" in URLs survive.
_COMMENT = re.compile(r"(^|\s+)#.*$")
_EGG = re.compile(r"#(?:.*&)?egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
_NAMED_URL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")
_INCLUDE_OPTIONS = {"-r": False, "--requirement": False, "-c": True, "--constraint": True}
_EDITABLE_OPTIONS = ("-e", "--editable")
# Options that say where to fetch from or how to build, never which version: they change no pin.
_KNOWN_OPTIONS = frozenset(
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
_VCS = re.compile(r"^(git|hg|svn|bzr)\+")
_ARCHIVES = (".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")


def parse_requirements(
    text: str, source: str, *, environment: MarkerEnvironment | None = None, constraint: bool = False
) -> tuple[RequirementsLine, ...]:
    """Every logical line's entry, in file order; markers are evaluated for ``environment``."""
    lines: list[RequirementsLine] = []
    for number, line in _logical_lines(text):
        location = Location(source, number)
        if line.startswith("-"):
            lines.extend(_option_line(line, location, constraint))
        else:
            lines.append(_requirement_line(line, location, constraint, environment))
    return tuple(lines)


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines without comments, backslash continuations joined; yields (first physical line number, text).

    As in pip, a line continues only when it ends in a backslash and holds no comment.
    """
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if raw.endswith("\\") and not _COMMENT.search(raw):
            pending.append(raw[:-1])
            continue
        pending.append(_COMMENT.sub("", raw))
        line = " ".join(pending).strip()
        pending = []
        if line:
            yield start, line
    line = " ".join(pending).strip()
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
        return [_unversioned_source(value, line, location, constraint, editable=True)]
    if option in _KNOWN_OPTIONS:
        return []
    return [SkippedEntry(SkipReason.UNKNOWN_OPTION, location, line, constraint=constraint)]


def _requirement_line(line: str, location: Location, constraint: bool, environment: MarkerEnvironment | None) -> Entry:
    # Per-requirement options (--hash, --config-settings) start at the first token that begins with "-".
    tokens = line.split()
    end = next((i for i, token in enumerate(tokens) if token.startswith("-")), len(tokens))
    text = " ".join(tokens[:end])
    if not text:
        raise ConfigError(f"{location}: options without a requirement: {line!r}")
    if _looks_like_file(text.partition(";")[0].strip()):
        return _file_line(text, location, constraint, environment)
    return requirement_entry(text, location, environment=environment, constraint=constraint)


def _looks_like_file(head: str) -> bool:
    if _NAMED_URL.match(head):
        return False  # PEP 508 "name @ url": the name is given
    return "/" in head or "\\" in head or head.startswith(".") or head.endswith((".whl", *_ARCHIVES))


def _file_line(text: str, location: Location, constraint: bool, environment: MarkerEnvironment | None) -> Entry:
    """A wheel, archive, directory or VCS URL given without ``name @``."""
    target, _, marker_text = text.partition(";")
    marker = parse_marker(marker_text.strip(), location) if marker_text.strip() else None
    applies = marker_holds(marker, location, environment)
    wheel = _wheel_pin(target.strip())
    if wheel is not None:
        specifier = SpecifierSet(f"=={wheel.version}")
        kind = _source_kind(target.strip())
        return PinnedEntry(wheel.name, wheel.version, location, text, applies, specifier, kind, constraint)
    return _unversioned_source(target.strip(), text, location, constraint, applies=applies)


def _unversioned_source(
    target: str, text: str, location: Location, constraint: bool, *, applies: bool = True, editable: bool = False
) -> SkippedEntry:
    """A source without a version: named by ``#egg=``, a local directory, or a URL that names nothing."""
    egg = _EGG.search(target)
    name = canonicalize_name(egg.group(1)) if egg is not None else None
    local = name is None and "://" not in target and not _VCS.match(target) and not target.endswith(_ARCHIVES)
    return SkippedEntry(
        SkipReason.LOCAL_PROJECT if local else SkipReason.DIRECT_SOURCE,
        location,
        text,
        name,
        applies,
        direct_source=_source_kind(target),
        editable=editable,
        constraint=constraint,
    )


def _source_kind(target: str) -> str:
    if _VCS.match(target):
        return "vcs"
    return "url" if "://" in target else "path"


def _wheel_pin(target: str) -> Pin | None:
    filename = unquote(urlsplit(target).path.replace("\\", "/").rsplit("/", 1)[-1])
    if not filename.endswith(".whl"):
        return None
    try:
        name, version, _, _ = parse_wheel_filename(filename)
    except (InvalidWheelFilename, InvalidVersion):
        return None
    return Pin(name, version)


def requirement_entry(
    text: str,
    location: Location,
    *,
    environment: MarkerEnvironment | None = None,
    extra: str = "",
    constraint: bool = False,
) -> Entry:
    """One PEP 508 requirement as an entry; its marker is evaluated with ``extra`` set as given."""
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        raise ConfigError(f"{location}: invalid requirement {text!r}: {first_line(exc)}") from None
    name = canonicalize_name(requirement.name)
    applies = marker_holds(requirement.marker, location, environment, extra)
    specifier = requirement.specifier
    if requirement.url:
        wheel = _wheel_pin(requirement.url)
        kind = _source_kind(requirement.url)
        if wheel is not None and wheel.name == name:
            return PinnedEntry(name, wheel.version, location, text, applies, specifier, kind, constraint)
        return SkippedEntry(SkipReason.DIRECT_SOURCE, location, text, name, applies, specifier, kind, False, constraint)
    exact = _exact_versions(specifier, text, location)
    if not exact:
        return SkippedEntry(SkipReason.UNPINNED, location, text, name, applies, specifier, constraint=constraint)
    version = exact.pop()
    if exact or not specifier.contains(version, prereleases=True):
        return SkippedEntry(SkipReason.UNSATISFIABLE, location, text, name, applies, specifier, constraint=constraint)
    return PinnedEntry(name, version, location, text, applies, specifier, constraint=constraint)


def _exact_versions(specifier: SpecifierSet, text: str, location: Location) -> set[Version]:
    versions: set[Version] = set()
    for spec in specifier:
        if spec.operator in ("==", "===") and not spec.version.endswith(".*"):
            try:
                versions.add(Version(spec.version))
            except InvalidVersion:
                raise ConfigError(
                    f"{location}: {spec.version!r} is not a valid version (not PEP 440) in {text!r}; "
                    "versions that are not PEP 440 cannot be compared"
                ) from None
    return versions


# --- files and their includes -------------------------------------------------------------------------------------


def read_requirements(path: Path, *, environment: MarkerEnvironment | None = None) -> tuple[Entry, ...]:
    """A requirements file's entries and those of every file it includes with ``-r``/``-c``, in reading order.

    Includes are relative to the including file; a cycle, a missing file or a remote include is an error.
    """
    return tuple(_collect(path, None, False, (), environment))


def _collect(
    path: Path,
    referenced_at: Location | None,
    constraint: bool,
    stack: tuple[Path, ...],
    environment: MarkerEnvironment | None,
) -> list[Entry]:
    resolved = path.resolve()
    if resolved in stack:
        raise ConfigError(f"{referenced_at}: including {path} again forms a cycle of -r/-c files")
    text = read_text(path, referenced_at)
    entries: list[Entry] = []
    for line in parse_requirements(text, str(path), environment=environment, constraint=constraint):
        if not isinstance(line, IncludeEntry):
            entries.append(line)
            continue
        if "://" in line.target:
            raise ConfigError(f"{line.location}: remote include {line.target!r} is not supported; download it first")
        entries += _collect(path.parent / line.target, line.location, line.constraint, (*stack, resolved), environment)
    return entries
