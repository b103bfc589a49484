"""How packages moved between two environments: upgrades, downgrades, additions and removals, as values."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from harness.errors import ConfigError
from harness.model.pins import Pin, pin_set


class ChangeKind(enum.Enum):
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"
    ADDED = "added"
    REMOVED = "removed"


@dataclass(frozen=True)
class PackageChange:
    """One package's move between the environments; ``None`` means absent on that side."""

    name: NormalizedName
    old: Version | None
    new: Version | None

    def __post_init__(self) -> None:
        if self.old is None and self.new is None:
            raise ValueError(f"{self.name}: a change needs an old or a new version")
        if self.old == self.new:
            raise ValueError(f"{self.name}: {self.old} -> {self.new} is not a change")

    @classmethod
    def of(cls, name: str, old: str | None, new: str | None) -> PackageChange:
        """Convenience constructor from strings (tests, command-line input)."""
        return cls(
            canonicalize_name(name),
            None if old is None else Pin.of(name, old).version,
            None if new is None else Pin.of(name, new).version,
        )

    @property
    def kind(self) -> ChangeKind:
        if self.old is None:
            return ChangeKind.ADDED
        if self.new is None:
            return ChangeKind.REMOVED
        return ChangeKind.UPGRADE if self.new > self.old else ChangeKind.DOWNGRADE

    @property
    def old_pin(self) -> Pin | None:
        return None if self.old is None else Pin(self.name, self.old)

    @property
    def new_pin(self) -> Pin | None:
        return None if self.new is None else Pin(self.name, self.new)

    def __str__(self) -> str:
        old = "(absent)" if self.old is None else str(self.old)
        new = "(absent)" if self.new is None else str(self.new)
        return f"{self.name} {old} -> {new}"


class Side(enum.Enum):
    OLD = "old"
    NEW = "new"


@dataclass(frozen=True)
class EnvironmentDelta:
    """The changes between two environments (sorted by name) and the pins they share.

    ``excluded`` are changes left out of consideration by ``restrict_to``; every environment built from this
    delta holds them at their ``excluded_at`` side.
    """

    changes: tuple[PackageChange, ...]
    unchanged: tuple[Pin, ...]
    excluded: tuple[PackageChange, ...] = ()
    excluded_at: Side = Side.OLD

    def of_kind(self, kind: ChangeKind) -> tuple[PackageChange, ...]:
        return tuple(change for change in self.changes if change.kind is kind)

    def environment_with(self, applied: Iterable[PackageChange]) -> tuple[Pin, ...]:
        """The old environment with exactly ``applied`` moved to their new versions (the excluded held fixed)."""
        chosen = set(applied)
        unknown = chosen - set(self.changes)
        if unknown:
            raise ValueError(f"not changes of this delta: {', '.join(sorted(str(change) for change in unknown))}")
        pins = list(self.unchanged)
        for change in self.changes:
            pin = change.new_pin if change in chosen else change.old_pin
            if pin is not None:
                pins.append(pin)
        for change in self.excluded:
            pin = change.new_pin if self.excluded_at is Side.NEW else change.old_pin
            if pin is not None:
                pins.append(pin)
        return pin_set(pins)

    @property
    def old_environment(self) -> tuple[Pin, ...]:
        return self.environment_with(())

    @property
    def new_environment(self) -> tuple[Pin, ...]:
        return self.environment_with(self.changes)


def _by_name(pins: Iterable[Pin], side: str) -> dict[NormalizedName, Version]:
    versions: dict[NormalizedName, Version] = {}
    for pin in pins:
        if versions.setdefault(pin.name, pin.version) != pin.version:
            raise ValueError(f"the {side} environment pins {pin.name} twice ({versions[pin.name]}, {pin.version})")
    return versions


def diff_environments(old: Iterable[Pin], new: Iterable[Pin]) -> EnvironmentDelta:
    """Every upgrade, downgrade, addition and removal from ``old`` to ``new``, and the pins both share."""
    before, after = _by_name(old, "old"), _by_name(new, "new")
    changes: list[PackageChange] = []
    unchanged: list[Pin] = []
    for name in sorted(before.keys() | after.keys()):
        was, now = before.get(name), after.get(name)
        if was is not None and was == now:
            unchanged.append(Pin(name, was))
        else:
            changes.append(PackageChange(name, was, now))
    return EnvironmentDelta(tuple(changes), tuple(unchanged))


def restrict_to(delta: EnvironmentDelta, names: Iterable[str], *, others_at: Side = Side.OLD) -> EnvironmentDelta:
    """Consider only the changes of ``names``; the other changes are held at ``others_at`` in every probe.

    A name in neither environment is a ConfigError (usually a typo); a name that did not change is fine.
    """
    if delta.excluded and others_at is not delta.excluded_at:
        raise ValueError("this delta already holds its excluded changes at the other side")
    wanted = {canonicalize_name(name) for name in names}
    known = {change.name for change in (*delta.changes, *delta.excluded)} | {pin.name for pin in delta.unchanged}
    missing = sorted(wanted - known)
    if missing:
        raise ConfigError(
            f"{missing[0]} is in neither environment; check the spelling, or drop it from the packages to consider"
        )
    kept = tuple(change for change in delta.changes if change.name in wanted)
    dropped = tuple(change for change in delta.changes if change.name not in wanted)
    excluded = tuple(sorted((*delta.excluded, *dropped), key=lambda change: change.name))
    return EnvironmentDelta(kept, delta.unchanged, excluded, others_at)
