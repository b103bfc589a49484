"""Probe records: what one probe asked for, what environment it got, and what happened, as JSON."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from packaging.utils import InvalidName, canonicalize_name
from packaging.version import InvalidVersion, Version

from harness.model.case import Parameters
from harness.model.names import is_case_id
from harness.model.outcome import Outcome, Repeats
from harness.model.pins import Pin, pin_set, pins_as_mapping
from harness.model.repair import Repair
from harness.model.signature import MissingModule

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class SourceTree:
    """A package installed from its source repository at a commit instead of from a release on the index."""

    package: str
    commit: str
    """The full sha: it names the tree's content, which is what the probe's result depends on."""


@dataclass(frozen=True)
class ProbeRequest:
    """Everything that determines a probe's result; its hash is the record's identity (``key``)."""

    case_id: str
    case_hash: str
    parameters: Parameters
    pins: tuple[Pin, ...]
    python: str
    forced: bool = False
    """Pins were applied as uv overrides, outside the packages' declared requirements."""
    exclude_newer: str | None = None
    """ISO date: unpinned dependencies were resolved as the index stood then (time-travel resolution)."""
    current_packages: tuple[str, ...] = ()
    """Packages exempt from ``exclude_newer``: the held pins and what they depend on, which are today's."""
    sources_digest: str = ""
    """Hash of the package sources, so a probe against another index is not mistaken for this one."""
    source: SourceTree | None = None
    """Install this package from its source tree at a commit (the commit phase of a bisection)."""
    repeat: int = 1
    """How many times the probe runs the replay (case.toml ``repeat``, ``--repeat``)."""
    sample: int = 0
    """Which independent sample of an otherwise equal request this is: a bisection's confirmation re-probe
    asks for sample 1, so that it is not answered by the very record it is checking."""
    repair: bool = True
    """Add an undeclared dependency that a failing probe turns out to need (``--no-repair`` turns it off)."""

    def __post_init__(self) -> None:
        # One canonical order, so equal requests are equal values whatever order the pins came in.
        object.__setattr__(self, "pins", pin_set(self.pins))

    @property
    def key(self) -> str:
        identity: dict[str, object] = {
            "case": [self.case_id, self.case_hash],
            "parameters": [[k, v] for k, v in self.parameters],
            "pins": [str(pin) for pin in pin_set(self.pins)],
            "python": self.python,
            "forced": self.forced,
            "exclude_newer": self.exclude_newer,
            "current_packages": sorted(self.current_packages),
            "sources": self.sources_digest,
        }
        if self.source is not None:
            # Only when set, so that every record made before source probes existed keeps its key.
            identity["source"] = [self.source.package, self.source.commit]
        # Likewise only when not the defaults: a one-run probe keeps the key it always had.
        if self.repeat != 1:
            identity["repeat"] = self.repeat
        if self.sample != 0:
            identity["sample"] = self.sample
        if not self.repair:
            identity["repair"] = False  # only when off, so every record made before repair keeps its key
        payload = json.dumps(identity, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Timings:
    resolve: float = 0.0
    install: float = 0.0
    run: float = 0.0

    @property
    def total(self) -> float:
        return self.resolve + self.install + self.run


@dataclass(frozen=True)
class ProbeRecord:
    request: ProbeRequest
    outcome: Outcome
    detail: str
    """One line: the matched error, the different error, or the installer's reason."""
    resolved: tuple[Pin, ...] = ()
    """Every distribution installed in the environment the verdict came from."""
    error_type: str | None = None
    error_message: str | None = None
    traceback_tail: str | None = None
    installer_message: str | None = None
    python_full: str | None = None
    platform: str | None = None
    timings: Timings = Timings()
    started_at: str = ""
    mode: str = "isolated"
    environment_id: str | None = None
    sources: Mapping[str, Any] = field(default_factory=dict)
    repeats: Repeats | None = None
    """Runs made and how many reproduced; None when the replay never ran (the environment failed to build)
    or for a record written before probes counted their runs."""
    missing_module: MissingModule | None = None
    """For a ``ModuleNotFoundError``: what the bootstrap saw, so a stored record can still be repaired."""
    repairs: tuple[Repair, ...] = ()
    """Distributions added so that the probe could run, each with why it was missing."""

    @property
    def key(self) -> str:
        return self.request.key


# Bounds on the untrusted text a record keeps (characters), so one 20 MB exception message cannot make a 60 MB
# record and an 80 MB page; the cut is marked where it was made.
TEXT_LIMITS = {"detail": 2_000, "message": 20_000, "traceback_tail": 20_000, "installer_message": 10_000}


def capped(text: str, limit: int, *, keep_end: bool = False) -> str:
    """``text`` bounded to about ``limit`` characters, with a marker saying how much was cut and where."""
    if len(text) <= limit:
        return text
    cut = len(text) - limit
    marker = f"[... {cut} characters cut ...]"
    return f"{marker}\n{text[-limit:]}" if keep_end else f"{text[:limit]}\n{marker}"


def _capped_or_none(text: str | None, limit: int, *, keep_end: bool = False) -> str | None:
    return None if text is None else capped(text, limit, keep_end=keep_end)


def record_to_json(record: ProbeRecord) -> dict[str, Any]:
    """The record as JSON; untrusted texts are capped here (``TEXT_LIMITS``), tracebacks keeping their end."""
    request = record.request
    return {
        "schema": SCHEMA_VERSION,
        "key": record.key,
        "case_id": request.case_id,
        "case_hash": request.case_hash,
        "parameters": dict(request.parameters),
        "requested": pins_as_mapping(request.pins),
        "python": request.python,
        "forced": request.forced,
        "exclude_newer": request.exclude_newer,
        "current_packages": list(request.current_packages),
        "sources_digest": request.sources_digest,
        **({} if request.repair else {"repair": False}),
        "source": None
        if request.source is None
        else {"package": request.source.package, "commit": request.source.commit},
        "outcome": record.outcome.value,
        "detail": capped(record.detail, TEXT_LIMITS["detail"]),
        "error": None
        if record.error_type is None
        else {
            "type": capped(record.error_type, TEXT_LIMITS["detail"]),
            "message": _capped_or_none(record.error_message, TEXT_LIMITS["message"]),
            "traceback_tail": _capped_or_none(record.traceback_tail, TEXT_LIMITS["traceback_tail"], keep_end=True),
            **({} if record.missing_module is None else {"missing_module": _missing_to_json(record.missing_module)}),
        },
        "installer_message": _capped_or_none(record.installer_message, TEXT_LIMITS["installer_message"], keep_end=True),
        "resolved": pins_as_mapping(record.resolved),
        "python_full": record.python_full,
        "platform": record.platform,
        "timings": {
            "resolve": record.timings.resolve,
            "install": record.timings.install,
            "run": record.timings.run,
        },
        "started_at": record.started_at,
        "mode": record.mode,
        "environment_id": record.environment_id,
        "sources": dict(record.sources),
        "repeat": request.repeat,
        "sample": request.sample,
        "runs": None if record.repeats is None else record.repeats.runs,
        "reproduced": None if record.repeats is None else record.repeats.reproduced,
        "repair": request.repair,
        "repairs": [
            {"added": r.added, "module": r.module, "imported_by": r.imported_by, "reason": r.reason}
            for r in record.repairs
        ],
    }


def _missing_to_json(missing: MissingModule) -> dict[str, Any]:
    return {
        "name": missing.name,
        "providers": list(missing.providers),
        "imported_by": missing.imported_by,
        "importer_distribution": missing.importer_distribution,
    }


def _missing_from(error: _Reader | None) -> MissingModule | None:
    missing = None if error is None else error.table("missing_module", required=False)
    if missing is None:
        return None
    return MissingModule(
        name=missing.text("name", "error.missing_module."),
        providers=missing.texts("providers"),
        imported_by=missing.optional_text("imported_by", "error.missing_module."),
        importer_distribution=missing.optional_text("importer_distribution", "error.missing_module."),
    )


def _repairs_from(fields: _Reader) -> tuple[Repair, ...]:
    listed = fields.list_of_tables("repairs")
    return tuple(
        Repair(
            added=item.text("added", f"repairs[{index}]."),
            module=item.text("module", f"repairs[{index}]."),
            imported_by=item.optional_text("imported_by", f"repairs[{index}]."),
            reason=item.text("reason", f"repairs[{index}]."),
        )
        for index, item in enumerate(listed)
    )


def record_from_json(data: object) -> ProbeRecord:
    """Inverse of ``record_to_json``, checking every field: anything else raises one ValueError with the reason.

    The reason names the field (``field 'requested.fakepkg': '1.x' is not a valid version``), so a report can
    say why it skipped a file; a record that passes is safe to use everywhere (no None where text is expected).
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"expected a JSON object, got {_kind(data)}")
    fields = _Reader(data)
    if "schema" not in data:
        raise ValueError("field 'schema' is missing")
    if data.get("schema") != SCHEMA_VERSION:
        raise ValueError(f"unsupported record schema {data.get('schema')!r}")
    case_id = fields.text("case_id")
    if not is_case_id(case_id):
        raise ValueError(f"field 'case_id': {case_id!r} is not a case id")
    source = fields.table("source", required=False)
    error = fields.table("error", required=False)
    timings = fields.table("timings", required=False)
    mode = fields.optional_text("mode") or "isolated"
    outcome_text = fields.text("outcome")
    try:
        outcome = Outcome(outcome_text)
    except ValueError:
        raise ValueError(f"field 'outcome': {outcome_text!r} is not an outcome") from None
    request = ProbeRequest(
        case_id=case_id,
        case_hash=fields.text("case_hash"),
        parameters=fields.parameters("parameters"),
        pins=fields.pins("requested"),
        python=fields.text("python"),
        forced=fields.flag("forced"),
        exclude_newer=fields.optional_text("exclude_newer"),
        current_packages=fields.texts("current_packages"),
        sources_digest=fields.optional_text("sources_digest") or "",
        source=None
        if source is None
        else SourceTree(source.text("package", "source."), source.text("commit", "source.")),
        repeat=fields.count("repeat", default=1),
        sample=fields.count("sample", default=0),
        repair=fields.flag("repair", default=True),
    )
    runs = fields.optional_count("runs")
    return ProbeRecord(
        request=request,
        outcome=outcome,
        detail=fields.text("detail"),
        resolved=fields.pins("resolved", required=False),
        error_type=None if error is None else error.optional_text("type", "error."),
        error_message=None if error is None else error.optional_text("message", "error."),
        traceback_tail=None if error is None else error.optional_text("traceback_tail", "error."),
        installer_message=fields.optional_text("installer_message"),
        python_full=fields.optional_text("python_full"),
        platform=fields.optional_text("platform"),
        timings=Timings()
        if timings is None
        else Timings(*(timings.number(name, "timings.") for name in ("resolve", "install", "run"))),
        started_at=fields.optional_text("started_at") or "",
        # Records written before the mode was named as the user names it said "forkserver".
        mode={"forkserver": "fork"}.get(mode, mode),
        environment_id=fields.optional_text("environment_id"),
        sources=fields.mapping("sources"),
        repeats=None if runs is None else Repeats(runs, fields.count("reproduced", default=0)),
        missing_module=_missing_from(error),
        repairs=_repairs_from(fields),
    )


class _Reader:
    """Typed access to one JSON object's fields; every mismatch is a ValueError naming the field."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data

    def _value(self, name: str, prefix: str, *, required: bool) -> Any:
        if name not in self.data:
            if required:
                raise ValueError(f"field '{prefix}{name}' is missing")
            return None
        return self.data[name]

    def text(self, name: str, prefix: str = "") -> str:
        value = self._value(name, prefix, required=True)
        if not isinstance(value, str):
            raise ValueError(f"field '{prefix}{name}': expected text, got {_kind(value)}")
        return value

    def optional_text(self, name: str, prefix: str = "") -> str | None:
        value = self._value(name, prefix, required=False)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"field '{prefix}{name}': expected text or null, got {_kind(value)}")
        return value

    def flag(self, name: str, *, default: bool = False) -> bool:
        value = self._value(name, "", required=False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ValueError(f"field '{name}': expected true or false, got {_kind(value)}")
        return value

    def list_of_tables(self, name: str) -> tuple[_Reader, ...]:
        value = self._value(name, "", required=False)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise ValueError(f"field '{name}': expected a list of objects, got {_kind(value)}")
        return tuple(_Reader(item) for item in value)

    def number(self, name: str, prefix: str = "") -> float:
        value = self._value(name, prefix, required=False)
        if value is None:
            return 0.0
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"field '{prefix}{name}': expected a number of seconds, got {value!r:.40}")
        return float(value)

    def optional_count(self, name: str) -> int | None:
        value = self._value(name, "", required=False)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValueError(f"field '{name}': expected a whole number, got {value!r:.40}")
        return value

    def count(self, name: str, *, default: int) -> int:
        value = self.optional_count(name)
        return default if value is None else value

    def texts(self, name: str) -> tuple[str, ...]:
        value = self._value(name, "", required=False)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError(f"field '{name}': expected a list of texts, got {_kind(value)}")
        return tuple(value)

    def mapping(self, name: str) -> Mapping[str, Any]:
        value = self._value(name, "", required=False)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError(f"field '{name}': expected an object, got {_kind(value)}")
        return value

    def table(self, name: str, *, required: bool = True) -> _Reader | None:
        value = self._value(name, "", required=required)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ValueError(f"field '{name}': expected an object{'' if required else ' or null'}, got {_kind(value)}")
        return _Reader(value)

    def parameters(self, name: str) -> Parameters:
        value = self._value(name, "", required=True)
        if not isinstance(value, dict):
            raise ValueError(f"field '{name}': expected an object, got {_kind(value)}")
        for key, item in value.items():
            if not isinstance(item, str | int | float | bool):
                raise ValueError(f"field '{name}.{key}': expected a string, number or boolean, got {_kind(item)}")
        return tuple(sorted(value.items()))

    def pins(self, name: str, *, required: bool = True) -> tuple[Pin, ...]:
        value = self._value(name, "", required=required)
        if value is None:
            return ()
        if not isinstance(value, dict):
            raise ValueError(f"field '{name}': expected an object of package versions, got {_kind(value)}")
        pins = []
        for package, version in value.items():
            if not isinstance(version, str):
                raise ValueError(f"field '{name}.{package}': expected a version, got {_kind(version)}")
            try:
                pins.append(Pin(canonicalize_name(package, validate=True), Version(version)))
            except InvalidName:
                raise ValueError(f"field '{name}': {package!r:.60} is not a package name") from None
            except InvalidVersion:
                raise ValueError(f"field '{name}.{package}': {version!r:.60} is not a valid version") from None
        return pin_set(pins)


def _kind(value: object) -> str:
    kinds = {type(None): "null", bool: "a boolean", int: "a number", float: "a number", str: "text"}
    kinds |= {list: "a list", dict: "an object"}
    return kinds.get(type(value), type(value).__name__)
