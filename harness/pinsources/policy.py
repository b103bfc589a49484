"""How strict each command is with the readers' entries: the culprit refuses what the gate skips.

The culprit diffs two whole environments, so every entry must be one released version: a URL, a path, an
editable install, an include or an unpinned line would make the diff a guess, and is refused. The gate asks
"does any recorded case reproduce with *these* versions?", so only the watched packages must be pinned exactly
(``watched=None`` watches every package); packages nobody watches are skipped whatever their form.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path

from packaging.utils import NormalizedName

from harness.errors import ConfigError
from harness.model.pins import Pin, pin_set
from harness.pinsources.installed import InstalledDistribution, installed_entries
from harness.pinsources.interface import (
    Entry,
    Location,
    MarkerEnvironment,
    PinFormat,
    PinnedEntry,
    SkippedEntry,
    SkipReason,
    detect_format,
    read_text,
)
from harness.pinsources.pylock import parse_pylock
from harness.pinsources.pyproject import parse_pyproject
from harness.pinsources.requirements import IncludeEntry, RequirementsLine, parse_requirements, read_requirements
from harness.pinsources.uvlock import parse_uv_lock

# --- the culprit: a whole environment, every package at one released version ------------------------------------

# uv.lock's words for the project itself and its workspace members: they are not dependencies.
_OWN_PROJECT = frozenset({"editable", "virtual"})
_FREEZE_HINT = (
    "pin it as NAME==VERSION or delete the line (`pip list --format=freeze` writes such packages as NAME==VERSION)"
)


def read_environment_pins(
    path: Path, format: PinFormat | None = None, *, environment: MarkerEnvironment | None = None
) -> tuple[Pin, ...]:
    """The pins of a good or bad environment; the format follows the file name (else requirements)."""
    chosen = format or detect_format(path, default=PinFormat.REQUIREMENTS)
    return parse_environment_pins(read_text(path), chosen, source=str(path), environment=environment)


def parse_environment_pins(
    text: str, format: PinFormat, *, source: str, environment: MarkerEnvironment | None = None
) -> tuple[Pin, ...]:
    lines: Iterable[RequirementsLine]
    if format is PinFormat.REQUIREMENTS:
        lines = parse_requirements(text, source, environment=environment)
    elif format is PinFormat.PYLOCK:
        lines = parse_pylock(text, source, environment=environment)
    elif format is PinFormat.UV_LOCK:
        lines = parse_uv_lock(text, source, environment=environment)
    else:
        raise ConfigError(
            f"{source}: pyproject.toml names dependencies, not an installed environment; pass `pip freeze` "
            "output, a pylock.toml or a uv.lock"
        )
    return environment_pins(lines)


def environment_pins(lines: Iterable[RequirementsLine]) -> tuple[Pin, ...]:
    """One pin per package; entries whose marker is false are left out, anything not a plain pin is refused."""
    found: list[tuple[Pin, str]] = []
    for line in lines:
        pin = _environment_pin(line)
        if pin is not None:
            found.append((pin, _where(line.location)))
    return _unique(found)


def _environment_pin(line: RequirementsLine) -> Pin | None:
    where = _where(line.location)
    if isinstance(line, IncludeEntry):
        raise ConfigError(
            f"{where}: the line includes another file ({line.target!r}), which is not supported; "
            "pass one flat list of pins (`pip freeze`, `uv pip compile`)"
        )
    if line.direct_source in _OWN_PROJECT:
        return None
    if isinstance(line, SkippedEntry) and line.reason is SkipReason.UNKNOWN_OPTION:
        option = line.text.split()[0].partition("=")[0]
        raise ConfigError(f"{where}: unknown option {option!r}; expected NAME==VERSION lines")
    if isinstance(line, SkippedEntry) and line.editable:
        raise ConfigError(
            f"{where}: {line.text!r} is an editable install, which is not supported; {_FREEZE_HINT} "
            "(for `uv export`, add --no-emit-project)"
        )
    if line.direct_source is not None:
        if line.location.line is not None:
            raise ConfigError(
                f"{where}: {line.text!r} is not a requirement on a released version but a URL or path, which is "
                f"not supported; {_FREEZE_HINT}"
            )
        raise ConfigError(
            f"{where}: {line.name} comes from a {line.direct_source} source, which is not supported; "
            "lock it from an index or remove the entry (for `uv export`, add --no-emit-project)"
        )
    if not line.applies:
        return None
    if isinstance(line, PinnedEntry) and len(line.specifier) <= 1:
        return line.pin
    if line.location.line is None:
        raise ConfigError(f"{where}: {line.name} has no version; pin it to a released version")
    raise ConfigError(
        f"{where}: {line.text!r} does not pin one version; use `pip freeze` or `uv pip compile` output (NAME==VERSION)"
    )


def _where(location: Location) -> str:
    # The culprit has always counted lock entries from 1 in its messages (package[1] is the first).
    if location.index is not None:
        return f"{location.source}: {location.field}[{location.index + 1}]"
    return str(location)


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


# --- the gate: candidate versions of the watched packages ---------------------------------------------------------

Watched = AbstractSet[NormalizedName] | None
"""Package names the gate cares about; None means all of them."""


def read_candidates(
    path: Path,
    *,
    format: PinFormat | None = None,
    extras: Sequence[str] = (),
    watched: Watched = None,
    environment: MarkerEnvironment | None = None,
) -> tuple[Pin, ...]:
    """Candidate pins from any supported file; the format comes from the file name unless given."""
    chosen = format or detect_format(path)
    if extras and chosen is not PinFormat.PYPROJECT:
        raise ConfigError(f"{path}: optional-dependency groups only apply to pyproject.toml")
    if chosen is PinFormat.REQUIREMENTS:
        return pins_from_requirements(read_requirements(path, environment=environment), watched=watched)
    text, source = read_text(path), str(path)
    if chosen is PinFormat.PYPROJECT:
        entries = parse_pyproject(text, source, extras=extras, environment=environment)
        return pins_from_requirements(entries, watched=watched)
    if chosen is PinFormat.UV_LOCK:
        return pins_from_lock(parse_uv_lock(text, source, environment=environment), watched=watched)
    return pins_from_lock(parse_pylock(text, source, environment=environment), watched=watched)


def pins_from_requirements(entries: Iterable[Entry], *, watched: Watched = None) -> tuple[Pin, ...]:
    """The exact pin of every watched package whose entries apply; unpinned or conflicting watched ones raise.

    Constraint entries (``-c``) pin a package something else installs, but install nothing themselves.
    """
    by_name: dict[NormalizedName, list[Entry]] = {}
    for entry in entries:
        _refuse_unreadable(entry)
        if entry.name is not None and entry.applies and (watched is None or entry.name in watched):
            by_name.setdefault(entry.name, []).append(entry)
    return pin_set(pin for group in by_name.values() if (pin := _pin_of(group)) is not None)


def _refuse_unreadable(entry: Entry) -> None:
    """Entries that might concern a watched package, whatever their marker, but cannot say which version."""
    if not isinstance(entry, SkippedEntry):
        return
    if entry.reason is SkipReason.UNSATISFIABLE:
        raise ConfigError(f"{entry.location}: {entry.text!r} can never be satisfied; keep one ==VERSION")
    if entry.reason is SkipReason.DIRECT_SOURCE and entry.name is None:
        raise ConfigError(
            f"{entry.location}: cannot tell which package {entry.text!r} installs; write NAME @ URL, add "
            "#egg=NAME or pin NAME==VERSION"
        )


def _pin_of(group: Sequence[Entry]) -> Pin | None:
    pinned = [entry for entry in group if isinstance(entry, PinnedEntry)]
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
    for entry in group:
        if isinstance(entry, PinnedEntry) and entry.version != chosen.version:
            raise ConfigError(
                f"{entry.location}: {entry.text!r} conflicts with {chosen.text!r} at {chosen.location}; "
                f"keep one version of {entry.name}"
            )
        if not entry.specifier.contains(chosen.version, prereleases=True):
            raise ConfigError(
                f"{entry.location}: {entry.text!r} excludes {chosen.name}=={chosen.version} pinned at {chosen.location}"
            )
    return chosen.pin


def pins_from_lock(entries: Iterable[Entry], *, watched: Watched = None) -> tuple[Pin, ...]:
    """The pins of the watched packages a lock installs here; a watched one without a version raises."""
    pins: list[tuple[Pin, str]] = []
    for entry in entries:
        if not entry.applies or entry.name is None or (watched is not None and entry.name not in watched):
            continue
        if isinstance(entry, SkippedEntry):
            # A source tree or VCS checkout without a static version; only an explicit watch makes it an error.
            if watched is not None:
                raise ConfigError(f"{entry.location}: watched package {entry.name} has no version in the lock file")
            continue
        pins.append((entry.pin, entry.location.source))
    return _merge_checked(pins)


def parse_candidate_options(texts: Iterable[str], *, watched: Watched = None) -> tuple[Pin, ...]:
    """Pins from ``--candidate NAME==VERSION`` options."""
    pins = []
    for text in texts:
        try:
            pins.append(Pin.parse(text))
        except ConfigError as exc:
            raise ConfigError(f"--candidate: {exc}") from None
    return _merge_checked((pin, "--candidate") for pin in pins if watched is None or pin.name in watched)


def environment_candidates(
    distributions: Iterable[InstalledDistribution] | None = None, *, watched: Watched = None
) -> tuple[Pin, ...]:
    """Pins of the installed distributions (default: the running interpreter's)."""
    pins = []
    for entry in installed_entries(distributions):
        if entry.name is None or (watched is not None and entry.name not in watched):
            continue
        if isinstance(entry, PinnedEntry):
            pins.append(entry.pin)
        elif entry.reason is SkipReason.INVALID_VERSION:
            raise ConfigError(f"installed distribution {entry.text} has a version that is not PEP 440")
    return pin_set(pins)


def merge_candidates(*groups: Iterable[Pin]) -> tuple[Pin, ...]:
    """Combine candidate sources; a later group overrides an earlier one package by package."""
    merged: dict[NormalizedName, Pin] = {}
    for group in groups:
        for pin in group:
            merged[pin.name] = pin
    return pin_set(merged.values())


def _merge_checked(pins: Iterable[tuple[Pin, str]]) -> tuple[Pin, ...]:
    by_name: dict[NormalizedName, Pin] = {}
    for pin, source in pins:
        other = by_name.setdefault(pin.name, pin)
        if other.version != pin.version:
            raise ConfigError(f"{source}: {pin.name} is pinned to both {other.version} and {pin.version}")
    return pin_set(by_name.values())
