"""Typed access to fields of a parsed TOML document, with errors that name the file and the field."""

from __future__ import annotations

from collections.abc import Mapping
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
