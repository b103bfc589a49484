"""The JSON Schemas shipped in docs/schema/ are the models' own, and they agree with the validators."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from harness.errors import ConfigError
from harness.model.case import parse_case
from harness.model.matrix import parse_matrix
from harness.model.schema import SCHEMA_FILES, json_schema, schema_text

REPO = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO / "docs" / "schema"
CASE_FILES = sorted(REPO.glob("cases/*/case.toml"))


def validator(name: str) -> Draft202012Validator:
    schema_file = next(f for f in SCHEMA_FILES if f.name == name)
    return Draft202012Validator(json_schema(schema_file))


CASE_SCHEMA = validator("case.schema.json")
VERSIONS_SCHEMA = validator("versions.schema.json")


def case_accepted(data: dict[str, Any]) -> bool:
    try:
        parse_case(data, directory=Path("/cases/demo"), content_hash="0")
    except ConfigError:
        return False
    return True


def matrix_accepted(data: dict[str, Any]) -> bool:
    try:
        parse_matrix(data)
    except ConfigError:
        return False
    return True


def changed(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """``base`` with the dotted ``path`` set to ``value`` (or removed, for ``...``)."""
    data = copy.deepcopy(base)
    *parents, last = path.split(".")
    target = data
    for key in parents:
        target = target.setdefault(key, {})
    if value is ...:
        target.pop(last, None)
    else:
        target[last] = value
    return data


REPO_CASE = tomllib.loads(CASE_FILES[0].read_text(encoding="utf-8"))
REPO_VERSIONS = tomllib.loads((REPO / "versions.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("schema_file", SCHEMA_FILES, ids=lambda f: f.name)
def test_shipped_schema_is_what_the_model_generates(schema_file: Any) -> None:
    shipped = SCHEMA_DIR / schema_file.name
    assert shipped.read_text(encoding="utf-8") == schema_text(schema_file), "regenerate with: nox -s schemas"


@pytest.mark.parametrize("schema_file", SCHEMA_FILES, ids=lambda f: f.name)
def test_generated_schema_is_valid_draft_2020_12(schema_file: Any) -> None:
    Draft202012Validator.check_schema(json_schema(schema_file))


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.parent.name)
def test_schema_and_validator_accept_the_repository_cases(path: Path) -> None:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert case_accepted(data)
    assert CASE_SCHEMA.is_valid(data), [e.message for e in CASE_SCHEMA.iter_errors(data)]


def test_schema_and_validator_accept_the_repository_versions_toml() -> None:
    assert matrix_accepted(REPO_VERSIONS)
    assert VERSIONS_SCHEMA.is_valid(REPO_VERSIONS), [e.message for e in VERSIONS_SCHEMA.iter_errors(REPO_VERSIONS)]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("id", ...),
        ("id", "bad id!"),
        ("id", 7),
        ("packages", ...),
        ("packages", []),
        ("packages", "torch"),
        ("packages", ["torch", 1]),
        ("timeout", -1),
        ("timeout", 0),
        ("timeout", True),
        ("timeout", "300"),
        ("title", 3),
        ("upstream", ["x"]),
        ("requirements", "numpy"),
        ("parameters", [1]),
        ("parameters.batch", [1]),
        ("signature", ...),
        ("signature", {}),
        ("signature.exception", 3),
        ("signature.message_contains", "text"),
        ("signature.message_regex", 1),
        ("signature.severity", "high"),
        ("recorded_environment.python", 3.11),
        ("recorded_environment.einops", 0.8),
        ("sweep.batch", []),
        ("sweep.batch", 1),
        ("sweep.batch", [[1]]),
        ("colour", "red"),
    ],
)
def test_schema_and_validator_reject_the_same_broken_cases(path: str, value: Any) -> None:
    data = changed(REPO_CASE, path, value)
    assert not case_accepted(data)
    assert not CASE_SCHEMA.is_valid(data)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("packages", ...),
        ("packages", {}),
        ("packages", ["einops"]),
        ("packages.einops", "0.8.0"),
        ("packages.einops", {}),
        ("packages.einops.versions", "0.8.0"),
        ("packages.einops.versions", []),
        ("packages.einops.versions", ["zero"]),
        ("packages.einops.versions", [0.8]),
        ("packages.einops.range", 8),
        ("packages.einops.index", True),
        ("packages.einops.pin", "0.8.0"),
        ("python", 3.11),
        ("pythn", "3.11"),
        ("exclude", {"einops": "<0.8"}),
        ("exclude", ["einops"]),
        ("exclude", [{}]),
        ("exclude", [{"einops": 8}]),
        ("sources", "pypi"),
        ("sources.index-url", 1),
        ("sources.find-links", "wheels"),
        ("sources.carry-pip-config", "yes"),
        ("sources.mirror", "x"),
    ],
)
def test_schema_and_validator_reject_the_same_broken_versions_toml(path: str, value: Any) -> None:
    data = changed(REPO_VERSIONS, path, value)
    assert not matrix_accepted(data)
    assert not VERSIONS_SCHEMA.is_valid(data)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("sources", ...),
        ("exclude", [{"einops": "<0.8"}]),
        ("packages.einops", {"range": ">=0.8"}),
        ("packages.einops.versions", ["latest", "v1.0", "2!1.0.post1.dev2+local.7"]),
        ("python", "3.12"),
    ],
)
def test_schema_and_validator_accept_the_same_variants(path: str, value: Any) -> None:
    data = changed(REPO_VERSIONS, path, value)
    assert matrix_accepted(data)
    assert VERSIONS_SCHEMA.is_valid(data)


@pytest.mark.parametrize(
    ("data", "accepted"),
    [
        (changed(REPO_CASE, "signature.message_regex", "("), case_accepted),
        (changed(REPO_CASE, "recorded_environment.einops", "not-a-version"), case_accepted),
        (changed(REPO_VERSIONS, "packages.einops.range", ">=>0.8"), matrix_accepted),
        (changed(REPO_VERSIONS, "exclude", [{"numpy": "<2"}]), matrix_accepted),
    ],
    ids=["regex", "recorded-version", "specifier", "exclude-names-no-axis"],
)
def test_what_only_the_validator_can_check(data: dict[str, Any], accepted: Any) -> None:
    # A JSON Schema cannot compile a regex, parse a specifier or cross-check names: the model does it in code.
    assert not accepted(data)
    schema = CASE_SCHEMA if accepted is case_accepted else VERSIONS_SCHEMA
    assert schema.is_valid(data)
