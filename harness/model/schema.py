"""JSON Schemas (draft 2020-12) for case.toml and versions.toml, generated from the models' field specs."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from harness.model.case import CASE_TABLE
from harness.model.fields import Kind, Table, Value
from harness.model.matrix import MATRIX_TABLE

DIALECT = "https://json-schema.org/draft/2020-12/schema"

_TYPES: dict[Kind, str | list[str]] = {
    Kind.STRING: "string",
    Kind.INTEGER: "integer",
    Kind.NUMBER: "number",
    Kind.BOOLEAN: "boolean",
    Kind.SCALAR: ["string", "number", "boolean"],
    Kind.LIST: "array",
    Kind.TABLE: "object",
}


@dataclass(frozen=True)
class SchemaFile:
    """One shipped schema: its file name under docs/schema/ and the spec it is generated from."""

    name: str
    title: str
    description: str
    table: Table


SCHEMA_FILES = (
    SchemaFile(
        "case.schema.json",
        "case.toml",
        "A recorded case of the harness: the failure signature, its parameters and where it was first seen.",
        CASE_TABLE,
    ),
    SchemaFile(
        "versions.schema.json",
        "versions.toml",
        "The harness's version matrix: one axis per package, exclusions, and where packages come from.",
        MATRIX_TABLE,
    ),
)


def json_schema(schema_file: SchemaFile) -> dict[str, Any]:
    """The whole document's schema, with the file's title and description at the top."""
    head: dict[str, Any] = {
        "$schema": DIALECT,
        "title": schema_file.title,
        "description": schema_file.description,
    }
    return head | table_schema(schema_file.table)


def schema_text(schema_file: SchemaFile) -> str:
    """The schema as shipped: stable key order, so regenerating an unchanged spec changes no byte."""
    return json.dumps(json_schema(schema_file), indent=2, ensure_ascii=False) + "\n"


def table_schema(table: Table) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object"}
    if table.fields:
        schema["properties"] = {item.name: value_schema(item.value) for item in table.fields}
    required = [item.name for item in table.fields if item.required]
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False if table.other is None else value_schema(table.other)
    if table.one_of:
        schema["anyOf"] = [_given(table, name) for name in table.one_of]
    return schema


def value_schema(value: Value) -> dict[str, Any]:
    schema: dict[str, Any] = {}
    if value.description:
        schema["description"] = value.description
    if value.or_list:
        one = value_schema(dataclasses.replace(value, or_list=False, description="", default=None))
        schema["anyOf"] = [one, {"type": "array", "items": one, "minItems": 1, "uniqueItems": True}]
        if value.default is not None:
            schema["default"] = value.default
        return schema
    if value.kind is Kind.TABLE:
        schema |= table_schema(value.table) if value.table is not None else {"type": "object"}
    else:
        schema["type"] = _TYPES[value.kind]
    if value.default is not None:
        schema["default"] = value.default
    if value.pattern is not None:
        schema["pattern"] = value.pattern
    if value.positive:
        schema["exclusiveMinimum"] = 0
    if value.items is not None:
        schema["items"] = value_schema(value.items)
    if value.non_empty:
        schema["minItems" if value.kind is Kind.LIST else "minProperties"] = 1
    return schema


def _given(table: Table, name: str) -> dict[str, Any]:
    """The schema of "``name`` is given", where an empty list does not count (as in ``Fields.check``)."""
    kinds = {item.name: item.value.kind for item in table.fields}
    if kinds.get(name) is Kind.LIST:
        return {"required": [name], "properties": {name: {"minItems": 1}}}
    return {"required": [name]}
