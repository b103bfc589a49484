"""A recorded case: the replay script, its parameters, the failure signature and where it was first seen."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name

from harness.model.fields import Fields
from harness.model.pins import Pin, pin_set
from harness.model.signature import ParamValue, Signature

CASE_FILE = "case.toml"
REPLAY_FILE = "replay.py"
DEFAULT_TIMEOUT_SECONDS = 600.0
_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

Parameters = tuple[tuple[str, ParamValue], ...]
"""Case parameters as sorted (name, value) pairs: hashable, and ordered the same way every time."""


@dataclass(frozen=True)
class RecordedEnvironment:
    """The environment the failure was first seen in: the starting point for bisection."""

    python: str | None
    pins: tuple[Pin, ...]

    def version_of(self, name: str) -> Pin | None:
        wanted = canonicalize_name(name)
        return next((pin for pin in self.pins if pin.name == wanted), None)


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    directory: Path
    packages: tuple[NormalizedName, ...]
    """The packages this case concerns, in display order: the first is the matrix's row axis."""
    parameters: Parameters
    signature: Signature
    recorded: RecordedEnvironment
    timeout_seconds: float
    content_hash: str
    """Hash of case.toml and replay.py: a record of an edited case is never reused for the new one."""
    upstream: str | None = None
    sweep: tuple[tuple[str, tuple[ParamValue, ...]], ...] = ()
    """Parameter grids for a sweep, as (name, values) pairs."""
    extra_requirements: tuple[str, ...] = ()
    """Requirements the replay needs beyond the packages under test (installed unpinned)."""

    @property
    def replay_file(self) -> Path:
        return self.directory / REPLAY_FILE

    def concerns(self, names: set[NormalizedName]) -> bool:
        return bool(names & set(self.packages))

    def sweep_points(self) -> Iterator[Parameters]:
        """Every parameter combination of the sweep grid, over the case's defaults."""
        names = [name for name, _ in self.sweep]
        for values in itertools.product(*(values for _, values in self.sweep)):
            merged = dict(self.parameters) | dict(zip(names, values, strict=True))
            yield tuple(sorted(merged.items()))


def parse_case(data: Mapping[str, Any], *, directory: Path, content_hash: str) -> Case:
    """Build a Case from a parsed case.toml; pure, so every validation rule is unit-testable."""
    source = str(directory / CASE_FILE)
    fields = Fields(data, source)
    fields.reject_unknown(
        {
            "id",
            "title",
            "upstream",
            "packages",
            "timeout",
            "parameters",
            "signature",
            "recorded_environment",
            "sweep",
            "requirements",
        }
    )
    case_id = fields.require("id", str)
    if not _ID_PATTERN.match(case_id):
        raise fields.error("id", "letters, digits, '.', '_' or '-', starting with a letter or digit")
    packages = fields.strings("packages")
    if not packages:
        raise fields.error("packages", "a non-empty list of the package names this case concerns")
    timeout = fields.get("timeout", float, DEFAULT_TIMEOUT_SECONDS)
    assert timeout is not None
    if timeout <= 0:
        raise fields.error("timeout", "a positive number of seconds")

    parameters = _parameters(fields.table("parameters"))
    signature_fields = fields.table("signature")
    signature_fields.reject_unknown({"exception", "message_contains", "message_regex"})
    try:
        signature = Signature(
            exception_type=signature_fields.require("exception", str),
            message_contains=signature_fields.strings("message_contains"),
            message_regex=signature_fields.get("message_regex", str),
        )
    except re.error as exc:
        raise signature_fields.error("message_regex", f"a valid regular expression ({exc})") from None

    recorded_fields = fields.table("recorded_environment")
    python = recorded_fields.get("python", str)
    recorded_pins = []
    for name, version in recorded_fields.data.items():
        if name == "python":
            continue
        if not isinstance(version, str):
            raise recorded_fields.error(name, 'a version string, e.g. "1.42.21"')
        recorded_pins.append(Pin.of(name, version))

    sweep_fields = fields.table("sweep")
    sweep = []
    for name, values in sweep_fields.data.items():
        if not isinstance(values, list) or not values or not all(_is_param_value(v) for v in values):
            raise sweep_fields.error(name, "a non-empty list of strings, numbers or booleans")
        sweep.append((name, tuple(values)))

    return Case(
        id=case_id,
        title=fields.get("title", str, case_id) or case_id,
        directory=directory,
        packages=tuple(canonicalize_name(name) for name in packages),
        parameters=parameters,
        signature=signature,
        recorded=RecordedEnvironment(python=python, pins=pin_set(recorded_pins)),
        timeout_seconds=timeout,
        content_hash=content_hash,
        upstream=fields.get("upstream", str),
        sweep=tuple(sweep),
        extra_requirements=fields.strings("requirements"),
    )


def _is_param_value(value: object) -> bool:
    return isinstance(value, str | int | float | bool)


def _parameters(fields: Fields) -> Parameters:
    for name, value in fields.data.items():
        if not _is_param_value(value):
            raise fields.error(name, "a string, number or boolean")
    return tuple(sorted(fields.data.items()))
