"""Package pins: a canonical distribution name bound to one exact version."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from harness.errors import ConfigError


@dataclass(frozen=True, order=True)
class Pin:
    """``name==version`` with the name canonicalized, so ``X_Transformers`` and ``x-transformers`` agree."""

    name: NormalizedName
    version: Version

    @classmethod
    def of(cls, name: str, version: str | Version) -> Pin:
        try:
            parsed = version if isinstance(version, Version) else Version(version)
        except InvalidVersion:
            raise ConfigError(f"{name}: {version!r} is not a valid version (PEP 440)") from None
        return cls(canonicalize_name(name), parsed)

    @classmethod
    def parse(cls, text: str) -> Pin:
        """Parse ``name==version``, the form users type on the command line."""
        name, sep, version = text.partition("==")
        if not sep or not name.strip() or not version.strip():
            raise ConfigError(f"{text!r} is not a pin; expected NAME==VERSION, e.g. x-transformers==1.43.2")
        return cls.of(name.strip(), version.strip())

    def __str__(self) -> str:
        return f"{self.name}=={self.version}"


def pin_set(pins: Iterable[Pin]) -> tuple[Pin, ...]:
    """A sorted, duplicate-free tuple of pins: the canonical form for hashing and display."""
    return tuple(sorted(set(pins)))


def pins_from_mapping(mapping: Mapping[str, str]) -> tuple[Pin, ...]:
    return pin_set(Pin.of(name, version) for name, version in mapping.items())


def pins_as_mapping(pins: Iterable[Pin]) -> dict[str, str]:
    return {pin.name: str(pin.version) for pin in pins}
