"""A recorded case: the replay script, its parameters, the failure signature and where it was first seen."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import InvalidName, NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from harness.model.fields import Field, Fields, Kind, Table, Value
from harness.model.pins import Pin, pin_set
from harness.model.signature import FrameScope, ParamValue, RaiseSite, Signature

CASE_FILE = "case.toml"
REPLAY_FILE = "replay.py"
DEFAULT_TIMEOUT_SECONDS = 600.0
DEFAULT_REPEAT = 1
_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_PARAMETER_VALUES = "a non-empty list of strings, numbers or booleans"

SIGNATURE_TABLE = Table(
    (
        Field(
            "exception",
            Value(Kind.STRING, "The exception's qualified type name, e.g. einops.EinopsError."),
            required=True,
        ),
        Field(
            "message_contains",
            Value(
                Kind.LIST,
                "Substrings the message must contain; $name stands for a parameter's value.",
                items=Value(Kind.STRING),
            ),
        ),
        Field(
            "message_regex",
            Value(Kind.STRING, "A regular expression (Python syntax) the message must match; $name as above."),
        ),
        Field(
            "function",
            Value(
                Kind.STRING,
                "Where it was raised: the function's qualified name, e.g. Attention.forward "
                "(a dotted suffix of the qualified name matches too).",
            ),
        ),
        Field(
            "file",
            Value(
                Kind.STRING,
                "Where it was raised: a suffix of the file's path on whole parts, e.g. x_transformers/attend.py.",
            ),
        ),
        Field(
            "line_regex",
            Value(
                Kind.STRING, "Where it was raised: a regular expression searched in the source line; $name as above."
            ),
        ),
        Field(
            "frame",
            Value(
                Kind.STRING,
                "Which traceback frames function, file and line_regex are checked against: the innermost "
                "(where the exception was raised) or any.",
                default=FrameScope.INNERMOST.value,
                pattern="^(innermost|any)$",
                invalid='"innermost" or "any"',
            ),
        ),
    )
)

CASE_TABLE = Table(
    (
        Field(
            "id",
            Value(
                Kind.STRING,
                "The case's id: its folder name under cases/ and its folder under reports/.",
                pattern=_ID_PATTERN,
                invalid="letters, digits, '.', '_' or '-', starting with a letter or digit",
            ),
            required=True,
        ),
        Field(
            "packages",
            Value(
                Kind.LIST,
                "The packages this case concerns, in display order: the first is the matrix's row axis.",
                items=Value(Kind.STRING),
                non_empty=True,
                invalid="a non-empty list of the package names this case concerns",
            ),
            required=True,
        ),
        Field(
            "timeout",
            Value(
                Kind.NUMBER,
                "Seconds one replay may take before the probe is recorded as TIMEOUT.",
                default=DEFAULT_TIMEOUT_SECONDS,
                positive=True,
                invalid="a positive number of seconds",
            ),
        ),
        Field(
            "repeat",
            Value(
                Kind.INTEGER,
                "How many times one probe runs the replay, each run in its own process: all reproduced is "
                "REPRODUCED, none PASSED, a mix FLAKY. Raise it for a failure that shows only sometimes.",
                default=DEFAULT_REPEAT,
                positive=True,
                invalid="a positive number of runs",
            ),
        ),
        Field(
            "parameters",
            Value(
                Kind.TABLE,
                "Keyword arguments for replay(**parameters).",
                table=Table((), other=Value(Kind.SCALAR, "A parameter's value.")),
            ),
        ),
        Field(
            "signature",
            Value(Kind.TABLE, "What makes a failure the recorded one.", table=SIGNATURE_TABLE),
            required=True,
        ),
        Field(
            "recorded_environment",
            Value(
                Kind.TABLE,
                "The environment the failure was first seen in: python, and a version per package.",
                table=Table(
                    (Field("python", Value(Kind.STRING, "The Python version, e.g. 3.11.")),),
                    other=Value(
                        Kind.STRING,
                        "The package's version in that environment.",
                        wrong_type='a version string, e.g. "1.42.21"',
                    ),
                ),
            ),
        ),
        Field(
            "sweep",
            Value(
                Kind.TABLE,
                "Parameter grids for `harness sweep`: each parameter's values.",
                table=Table(
                    (),
                    other=Value(
                        Kind.LIST,
                        "The values to sweep this parameter over.",
                        items=Value(Kind.SCALAR),
                        non_empty=True,
                        wrong_type=_PARAMETER_VALUES,
                        wrong_item=_PARAMETER_VALUES,
                        invalid=_PARAMETER_VALUES,
                    ),
                ),
            ),
        ),
        Field("title", Value(Kind.STRING, "A one-line title for reports; default: the id.")),
        Field("upstream", Value(Kind.STRING, "The upstream issue's URL.")),
        Field(
            "requirements",
            Value(
                Kind.LIST,
                "Requirements the replay needs beyond the packages under test (installed unpinned).",
                items=Value(Kind.STRING),
            ),
        ),
    )
)
"""Every field of case.toml: the validator below and docs/schema/case.schema.json both come from it."""

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
    repeat: int = DEFAULT_REPEAT
    """Runs of the replay per probe (``--repeat`` overrides it)."""

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


def _signature(fields: Fields) -> Signature:
    try:
        site = RaiseSite(
            function=fields.get("function", str),
            file=fields.get("file", str),
            line_regex=fields.get("line_regex", str),
            frame=FrameScope(fields.get("frame", str, FrameScope.INNERMOST.value)),
        )
    except re.error as exc:
        raise fields.error("line_regex", f"a valid regular expression ({exc})") from None
    try:
        return Signature(
            exception_type=fields.require("exception", str),
            message_contains=fields.strings("message_contains"),
            message_regex=fields.get("message_regex", str),
            site=site,
        )
    except re.error as exc:
        raise fields.error("message_regex", f"a valid regular expression ({exc})") from None


def parse_case(data: Mapping[str, Any], *, directory: Path, content_hash: str) -> Case:
    """Build a Case from a parsed case.toml; pure, so every validation rule is unit-testable."""
    source = str(directory / CASE_FILE)
    fields = Fields(data, source)
    fields.check(CASE_TABLE)
    case_id = fields.require("id", str)
    packages = fields.strings("packages")
    timeout = fields.get("timeout", float, DEFAULT_TIMEOUT_SECONDS)
    assert timeout is not None
    repeat = fields.get("repeat", int, DEFAULT_REPEAT)
    assert repeat is not None
    if not math.isfinite(timeout):
        # TOML allows nan and inf; neither is a time limit a process wait can keep.
        raise fields.error("timeout", f"a positive number of seconds; got {timeout}")

    parameters = tuple(sorted(fields.table("parameters").data.items()))
    signature_fields = fields.table("signature")
    signature = _signature(signature_fields)

    recorded_fields = fields.table("recorded_environment")
    python = recorded_fields.get("python", str)
    recorded_pins = []
    for name, version in recorded_fields.data.items():
        if name != "python":
            try:
                recorded_pins.append(Pin(canonicalize_name(name, validate=True), Version(version)))
            except InvalidName:
                raise recorded_fields.error(name, "a package name (letters, digits, '.', '_' and '-')") from None
            except InvalidVersion:
                raise recorded_fields.error(name, f'a version (PEP 440), e.g. "1.42.21"; got {version!r}') from None
    sweep = [(name, tuple(values)) for name, values in fields.table("sweep").data.items()]

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
        repeat=repeat,
    )
