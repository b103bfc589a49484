"""Typed access to fields of a parsed TOML document, and the declarative field specs that validate it.

A model declares its file once, as a ``Table`` of ``Field`` specs; ``Fields.check`` validates a document
against it with errors that name the file and the field, and ``harness.model.schema`` turns the same spec
into a JSON Schema for editors. What a JSON Schema cannot say (a regex that must compile, a version
packaging must parse) the model checks in code after ``check``.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from harness.errors import ConfigError

T = TypeVar("T")

_TYPE_WORDS: dict[type, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "a table",
}


class Kind(enum.Enum):
    """What a TOML value must be."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    """An integer or a float, never a boolean."""
    BOOLEAN = "boolean"
    SCALAR = "scalar"
    """A string, number or boolean: a case parameter's value."""
    LIST = "list"
    TABLE = "table"


_KIND_WORDS = {
    Kind.STRING: "a string",
    Kind.INTEGER: "an integer",
    Kind.NUMBER: "a number",
    Kind.BOOLEAN: "true or false",
    Kind.SCALAR: "a string, number or boolean",
    Kind.LIST: "a list",
    Kind.TABLE: "a table",
}


@dataclass(frozen=True)
class Value:
    """The spec of one value; the message fields hold the words after ``expected`` in an error."""

    kind: Kind
    description: str = ""
    default: str | float | bool | None = None
    """Documented in the schema; the model applies it."""
    pattern: str | None = None
    """A string must match (``re.match``; written so that ECMA-262, which JSON Schema uses, agrees)."""
    positive: bool = False
    """A number must be above zero."""
    non_empty: bool = False
    """A list needs an item and a table a key; a missing list counts as empty."""
    items: Value | None = None
    """A list's items."""
    table: Table | None = None
    """A table's keys."""
    wrong_type: str | None = None
    """Instead of the kind's word ("a list"), when the value has the wrong type."""
    wrong_item: str | None = None
    """When a list item breaks its spec; default: "a list of <items>"."""
    invalid: str | None = None
    """When the value breaks ``pattern``, ``positive`` or ``non_empty``; may name the value as ``{value!r}``."""
    invalid_is_whole: bool = False
    """``invalid`` is the whole message after the file name, not the words after ``field '...': expected``."""
    or_list: bool = False
    """One such value or a non-empty list of them: ``python = "3.11"`` or ``python = ["3.11", "3.12"]``."""

    def type_word(self) -> str:
        if self.wrong_type:
            return self.wrong_type
        return _KIND_WORDS[self.kind] + (f" or a list of {_plural(self)}" if self.or_list else "")


@dataclass(frozen=True)
class Field:
    name: str
    value: Value
    required: bool = False


@dataclass(frozen=True)
class Table:
    """A table's known keys in the order they are checked, and what any other key may hold."""

    fields: tuple[Field, ...]
    other: Value | None = None
    """Keys not listed in ``fields`` (a package name, a parameter); None: an unknown key is an error."""
    one_of: tuple[str, ...] = ()
    """At least one of these keys must be given (a non-empty list counts); the error names the first."""
    one_of_invalid: str = ""

    @property
    def names(self) -> set[str]:
        return {f.name for f in self.fields}


class Fields:
    """One TOML table plus where it came from, so every error can say ``file: field: expected ...``."""

    def __init__(self, data: Mapping[str, Any], source: str, prefix: str = "") -> None:
        self.data = data
        self.source = source
        self.prefix = prefix

    def error(self, key: str, expected: str) -> ConfigError:
        return ConfigError(f"{self.source}: field '{self.prefix}{key}': expected {expected}")

    def get(self, key: str, kind: type[T], default: T | None = None) -> T | None:
        if key not in self.data:
            return default
        value = self.data[key]
        # bool is a subclass of int; a user writing `timeout = true` made a mistake worth naming.
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)  # type: ignore[return-value]
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise self.error(key, _TYPE_WORDS.get(kind, kind.__name__))
        return value

    def require(self, key: str, kind: type[T]) -> T:
        value = self.get(key, kind)
        if value is None:
            raise self.error(key, f"{_TYPE_WORDS.get(kind, kind.__name__)} (the field is missing)")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        values = self.get(key, list) or []
        if not all(isinstance(item, str) for item in values):
            raise self.error(key, "a list of strings")
        return tuple(values)

    def table(self, key: str) -> Fields:
        return Fields(self.get(key, dict) or {}, self.source, f"{self.prefix}{key}.")

    def reject_unknown(self, allowed: set[str]) -> None:
        unknown = sorted(set(self.data) - allowed)
        if unknown:
            raise self.error(unknown[0], f"one of {', '.join(sorted(allowed))} (unknown field)")

    def check(self, spec: Table) -> None:
        """Raise the first way this table breaks ``spec``: unknown keys, then each field in order."""
        if spec.other is None:
            self.reject_unknown(spec.names)
        for item in spec.fields:
            if item.name in self.data:
                self._check_value(item.name, self.data[item.name], item.value)
            elif item.required and item.value.kind is Kind.TABLE:
                # A missing table reads as an empty one, so the error names the field inside it that is missing.
                self._check_value(item.name, {}, item.value)
            elif item.required and item.value.kind is Kind.LIST and item.value.non_empty:
                raise self._invalid(item.name, item.value, [])
            elif item.required:
                raise self.error(item.name, f"{item.value.type_word()} (the field is missing)")
        if spec.other is not None:
            for key, value in self.data.items():
                if key not in spec.names:
                    self._check_value(key, value, spec.other)
        if spec.one_of and not any(_given(self.data.get(key)) for key in spec.one_of):
            raise self.error(spec.one_of[0], spec.one_of_invalid)

    def _check_value(self, key: str, value: object, spec: Value) -> None:
        if spec.or_list and isinstance(value, list):
            one = dataclasses.replace(spec, or_list=False)
            if not value or not all(_has_kind(item, one.kind) for item in value):
                raise self.error(key, spec.type_word())
            if len({repr(item) for item in value}) != len(value):
                raise self.error(key, f"{spec.type_word()}, each listed once")
            for item in value:
                self._check_value(key, item, one)
            return
        if not _has_kind(value, spec.kind):
            raise self.error(key, spec.type_word())
        if isinstance(value, str) and spec.pattern is not None and not re.match(spec.pattern, value):
            raise self._invalid(key, spec, value)
        if spec.positive and isinstance(value, int | float) and value <= 0:
            raise self._invalid(key, spec, value)
        if isinstance(value, list):
            self._check_list(key, value, spec)
        if isinstance(value, dict):
            if spec.non_empty and not value:
                raise self._invalid(key, spec, value)
            if spec.table is not None:
                Fields(value, self.source, f"{self.prefix}{key}.").check(spec.table)

    def _check_list(self, key: str, value: list[Any], spec: Value) -> None:
        items = spec.items
        if items is not None and not all(_has_kind(item, items.kind) for item in value):
            raise self.error(key, spec.wrong_item or f"a list of {_plural(items)}")
        if spec.non_empty and not value:
            raise self._invalid(key, spec, value)
        if items is None:
            return
        for position, item in enumerate(value):
            if items.table is not None:
                Fields(item, self.source, f"{self.prefix}{key}[{position}].").check(items.table)
                if items.non_empty and not item:
                    raise self.error(f"{key}[{position}]", items.invalid or "a non-empty table")
            elif isinstance(item, str) and items.pattern is not None and not re.match(items.pattern, item):
                raise self._invalid(key, items, item)

    def _invalid(self, key: str, spec: Value, value: object) -> ConfigError:
        words = (spec.invalid or "a valid value").format(value=value)
        if spec.invalid_is_whole:
            return ConfigError(f"{self.source}: {words}")
        return self.error(key, words)


def _has_kind(value: object, kind: Kind) -> bool:
    if isinstance(value, bool):
        return kind in {Kind.BOOLEAN, Kind.SCALAR}
    match kind:
        case Kind.STRING:
            return isinstance(value, str)
        case Kind.INTEGER:
            return isinstance(value, int)
        case Kind.NUMBER:
            return isinstance(value, int | float)
        case Kind.BOOLEAN:
            return False
        case Kind.SCALAR:
            return isinstance(value, str | int | float)
        case Kind.LIST:
            return isinstance(value, list)
        case Kind.TABLE:
            return isinstance(value, dict)


def _plural(items: Value) -> str:
    return {Kind.STRING: "strings", Kind.TABLE: "tables"}.get(items.kind, items.kind.value + "s")


def _given(value: object) -> bool:
    return value is not None and value != []
