"""Acknowledgements: a known failure a team accepts until a date, with a reason, so it stops blocking the gate.

``gate.toml``::

    [[accept]]
    case = "rotary_xpos_batch1_seq32"
    until = 2027-01-31                  # inclusive: the acknowledgement holds through that day
    reason = "waiting for upstream fix"
    package = "x-transformers"          # optional: only failures involving this package
    versions = ">=1.42.21,<1.43.2"      # optional, needs package: only while that package is in this range

An expired acknowledgement no longer applies, so the gate fails again and says which acknowledgement ran out.
Other top-level tables of ``gate.toml`` are left to other readers.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from harness.errors import ConfigError
from harness.model.fields import Fields
from harness.model.pins import Pin

ACCEPT_KEY = "accept"
_FIELDS = {"case", "until", "reason", "package", "versions"}


@dataclass(frozen=True)
class Acknowledgement:
    case_id: str
    until: datetime.date
    """Last day on which the acknowledgement applies."""
    reason: str
    package: NormalizedName | None = None
    versions: SpecifierSet | None = None

    def is_active(self, today: datetime.date) -> bool:
        return today <= self.until

    def covers(self, case_id: str, pins: Sequence[Pin]) -> bool:
        """Whether this acknowledgement is about that case in an environment with these pins (ignoring dates)."""
        if case_id != self.case_id:
            return False
        if self.package is None:
            return True
        return any(
            pin.name == self.package
            and (self.versions is None or self.versions.contains(pin.version, prereleases=True))
            for pin in pins
        )

    @property
    def scope(self) -> str:
        """``case`` or ``case (package versions)``, for messages."""
        if self.package is None:
            return self.case_id
        return f"{self.case_id} ({self.package}{self.versions or ''})"

    @property
    def note(self) -> str:
        return f"accepted until {self.until.isoformat()}: {self.reason}"


def parse_acknowledgements(data: Mapping[str, Any], source: str = "gate.toml") -> tuple[Acknowledgement, ...]:
    """Read the ``[[accept]]`` tables of a parsed ``gate.toml``; pure, every problem is one ConfigError line."""
    items = data.get(ACCEPT_KEY, [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ConfigError(f"{source}: field '{ACCEPT_KEY}': expected an array of tables ([[accept]])")
    return tuple(_parse_one(Fields(item, source, f"{ACCEPT_KEY}[{index}].")) for index, item in enumerate(items))


def _parse_one(fields: Fields) -> Acknowledgement:
    fields.reject_unknown(_FIELDS)
    case_id = fields.require("case", str).strip()
    if not case_id:
        raise fields.error("case", "a case id (it is empty)")
    reason = fields.require("reason", str).strip()
    if not reason:
        raise fields.error("reason", "a reason (say why the failure is accepted)")
    package_text = fields.get("package", str)
    package = canonicalize_name(package_text) if package_text else None
    versions_text = fields.get("versions", str)
    versions = None
    if versions_text is not None:
        if package is None:
            raise fields.error("versions", "to be used together with 'package'")
        try:
            versions = SpecifierSet(versions_text)
        except InvalidSpecifier:
            raise fields.error(
                "versions", f'a version specifier such as ">=1.42,<1.44"; got {versions_text!r}'
            ) from None
    return Acknowledgement(case_id, _until(fields), reason, package, versions)


def _until(fields: Fields) -> datetime.date:
    value = fields.data.get("until")
    # TOML has a date type; a datetime is also a date in Python, but "until 10:00" is not what anyone means.
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise fields.error("until", "a date such as 2027-01-31" + (" (the field is missing)" if value is None else ""))
