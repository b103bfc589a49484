"""Known-bad ranges: the one value class for ``reports/known-bad.json``, its schema, its name and its JSON codec."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from harness.errors import ConfigError
from harness.model.fields import Fields
from harness.model.pins import Pin

KNOWN_BAD_SCHEMA = 1
KNOWN_BAD_FILE = "known-bad.json"
"""In the reports folder (``reports/known-bad.json``): ``{"schema": 1, "ranges": [range_to_json(...), ...]}``."""


@dataclass(frozen=True)
class KnownBadRange:
    """Versions of one package with which a case is known to reproduce, as a bisection found them."""

    case_id: str
    package: NormalizedName
    specifier: SpecifierSet
    """Empty only for a bisection that found every release bad; the gate's file refuses one."""
    first_bad: str | None
    first_fixed: str | None
    found_at: str | None = None
    """When the range was established (ISO date or timestamp), for the record only."""
    uncertain: tuple[SpecifierSet, ...] = ()
    """Releases that may reproduce but could not be tested (those a bisection left ambiguous): the gate says
    "undecided" for them, never "failed", since only ``specifier`` was confirmed."""

    @classmethod
    def between(
        cls, case_id: str, package: str, first_bad: str | None, first_fixed: str | None, found_at: str | None = None
    ) -> KnownBadRange:
        """The range ``>=first_bad,<first_fixed`` (either end may be open) that a bisection reports."""
        parts = [f">={first_bad}" if first_bad else "", f"<{first_fixed}" if first_fixed else ""]
        text = ",".join(part for part in parts if part)
        if not text:
            raise ConfigError(f"known-bad range of {case_id}/{package}: needs first_bad or first_fixed")
        return cls(case_id, canonicalize_name(package), SpecifierSet(text), first_bad, first_fixed, found_at)

    def contains(self, pin: Pin) -> bool:
        return pin.name == self.package and self.specifier.contains(pin.version, prereleases=True)

    def uncertain_about(self, pin: Pin) -> SpecifierSet | None:
        """The uncertain range ``pin`` falls in, if any (a confirmed one takes precedence: see ``contains``)."""
        if pin.name != self.package or self.contains(pin):
            return None
        return next((part for part in self.uncertain if part.contains(pin.version, prereleases=True)), None)

    @property
    def label(self) -> str:
        return f"{self.package}{self.specifier}"

    @property
    def specifier_text(self) -> str:
        """The specifier as a range reads, lower bound first (``>=1.42.21,<1.43.2``); ``str()`` sorts as text."""
        return reading_order(self.specifier)


def reading_order(specifier: SpecifierSet) -> str:
    """A specifier as a range reads, lower bound first (``>=1.42.21,<1.43.2``)."""
    return ",".join(str(part) for part in sorted(specifier, key=_reading_order))


def range_to_json(item: KnownBadRange) -> dict[str, Any]:
    return {
        "case_id": item.case_id,
        "package": item.package,
        "specifier": item.specifier_text,
        "first_bad": item.first_bad,
        "first_fixed": item.first_fixed,
        "found_at": item.found_at,
        "uncertain": [reading_order(part) for part in item.uncertain],
    }


def range_from_json(
    data: Mapping[str, Any], source: str = "known-bad range", prefix: str = "", *, allow_empty: bool = False
) -> KnownBadRange:
    """One range; unknown keys are ignored for forward compatibility. Raises ConfigError naming the field.

    ``allow_empty`` admits the empty specifier a bisection writes when every release it tried was bad; the
    gate's file must not hold one, since it would block every version.
    """
    fields = Fields(data, source, prefix)
    case_id = fields.require("case_id", str)
    package = fields.require("package", str)
    text = fields.require("specifier", str)
    if not case_id.strip() or not package.strip():
        raise fields.error("case_id" if not case_id.strip() else "package", "a non-empty string")
    try:
        specifier = SpecifierSet(text)
    except InvalidSpecifier:
        raise fields.error("specifier", f'a version specifier such as ">=1.42.21,<1.43.2"; got {text!r}') from None
    if not str(specifier) and not allow_empty:
        raise fields.error("specifier", "a non-empty specifier (an empty one would mark every version bad)")
    first_bad = _optional_string(fields, "first_bad")
    first_fixed = _optional_string(fields, "first_fixed")
    for key, version, inside in (("first_bad", first_bad, True), ("first_fixed", first_fixed, False)):
        if version is None:
            continue
        try:
            parsed = Version(version)
        except InvalidVersion:
            raise fields.error(key, f"a version (PEP 440); got {version!r}") from None
        if specifier.contains(parsed, prereleases=True) != inside:
            where = "inside" if inside else "outside"
            raise fields.error(key, f"a version {where} the specifier {specifier}; got {version}")
    found_at = _optional_string(fields, "found_at")
    uncertain = fields.get("uncertain", list) or []
    parsed_uncertain: list[SpecifierSet] = []
    for text in uncertain:
        try:
            part = SpecifierSet(text) if isinstance(text, str) else None
        except InvalidSpecifier:
            part = None
        if part is None or not str(part):
            raise fields.error(
                "uncertain", f'a list of non-empty version specifiers such as ">=1.12,<1.42"; got {text!r}'
            )
        parsed_uncertain.append(part)
    return KnownBadRange(
        case_id, canonicalize_name(package), specifier, first_bad, first_fixed, found_at, tuple(parsed_uncertain)
    )


def known_bad_to_json(ranges: Iterable[KnownBadRange]) -> dict[str, Any]:
    """The whole file; inverse of ``known_bad_from_json``."""
    return {"schema": KNOWN_BAD_SCHEMA, "ranges": [range_to_json(item) for item in ranges]}


def known_bad_from_json(data: Mapping[str, Any], source: str = "known-bad ranges") -> tuple[KnownBadRange, ...]:
    """Parse ``{"schema": 1, "ranges": [...]}``; raises ConfigError (one line naming ``source``) if malformed."""
    fields = Fields(data, source)
    _check_schema(data, source)
    items = fields.get("ranges", list) or []
    if not all(isinstance(item, dict) for item in items):
        raise fields.error("ranges", "a list of objects")
    return tuple(range_from_json(item, source, f"ranges[{index}].") for index, item in enumerate(items))


def merge_known_bad(existing: Mapping[str, Any] | None, entry: Mapping[str, Any]) -> dict[str, Any]:
    """The file with ``entry`` (a ``range_to_json``) replacing any entry for the same case and package.

    The merge works on the file's JSON, so that entries written by others (with keys a newer writer added)
    survive the rewrite as they were. Entries are kept sorted by package then case, so the file diffs cleanly.
    """
    ranges: list[Mapping[str, Any]] = []
    if existing is not None:
        schema = existing.get("schema")
        if schema != KNOWN_BAD_SCHEMA:
            raise ConfigError(
                f"reports/{KNOWN_BAD_FILE}: schema {schema!r} is not supported (expected {KNOWN_BAD_SCHEMA}); "
                "move the file aside to start a new one"
            )
        found = existing.get("ranges", [])
        if not isinstance(found, list) or not all(isinstance(item, Mapping) for item in found):
            raise ConfigError(f"reports/{KNOWN_BAD_FILE}: 'ranges' must be a list of tables; move the file aside")
        ranges = list(found)
    key = _entry_key(entry)
    merged = [dict(item) for item in ranges if _entry_key(item) != key] + [dict(entry)]
    merged.sort(key=_entry_key)
    return {"schema": KNOWN_BAD_SCHEMA, "ranges": merged}


def _reading_order(part: Specifier) -> tuple[int, str]:
    rank = {">=": 0, ">": 0, "<": 1, "<=": 1}.get(part.operator, 2)
    return (rank, str(part))


def _check_schema(data: Mapping[str, Any], source: str) -> None:
    schema = data.get("schema")
    if schema != KNOWN_BAD_SCHEMA:
        raise ConfigError(f"{source}: unsupported known-bad ranges schema {schema!r}; expected {KNOWN_BAD_SCHEMA}")


def _entry_key(entry: Mapping[str, Any]) -> tuple[str, str]:
    return (canonicalize_name(str(entry.get("package", ""))), str(entry.get("case_id", "")))


def _optional_string(fields: Fields, key: str) -> str | None:
    # The JSON form writes null for an open end; TOML-minded Fields would call that a type error.
    return None if fields.data.get(key) is None else fields.get(key, str)
