"""Probe records: what one probe asked for, what environment it got, and what happened, as JSON."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.model.case import Parameters
from harness.model.outcome import Outcome
from harness.model.pins import Pin, pin_set, pins_as_mapping, pins_from_mapping
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
    missing_module: MissingModule | None = None
    """For a ``ModuleNotFoundError``: what the bootstrap saw, so a stored record can still be repaired."""
    repairs: tuple[Repair, ...] = ()
    """Distributions added so that the probe could run, each with why it was missing."""

    @property
    def key(self) -> str:
        return self.request.key


def record_to_json(record: ProbeRecord) -> dict[str, Any]:
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
        "detail": record.detail,
        "error": None
        if record.error_type is None
        else {
            "type": record.error_type,
            "message": record.error_message,
            "traceback_tail": record.traceback_tail,
            **({} if record.missing_module is None else {"missing_module": _missing_to_json(record.missing_module)}),
        },
        "installer_message": record.installer_message,
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


def _missing_from_json(data: Mapping[str, Any] | None) -> MissingModule | None:
    if not data:
        return None
    return MissingModule(
        name=data["name"],
        providers=tuple(data.get("providers") or ()),
        imported_by=data.get("imported_by"),
        importer_distribution=data.get("importer_distribution"),
    )


def record_from_json(data: Mapping[str, Any]) -> ProbeRecord:
    """Inverse of ``record_to_json``; raises KeyError/ValueError/TypeError on a malformed record."""
    if data.get("schema") != SCHEMA_VERSION:
        raise ValueError(f"unsupported record schema {data.get('schema')!r}")
    error = data.get("error") or {}
    timings = data.get("timings") or {}
    source = data.get("source")
    request = ProbeRequest(
        case_id=data["case_id"],
        case_hash=data["case_hash"],
        parameters=tuple(sorted(data["parameters"].items())),
        pins=pins_from_mapping(data["requested"]),
        python=data["python"],
        forced=bool(data.get("forced", False)),
        exclude_newer=data.get("exclude_newer"),
        current_packages=tuple(data.get("current_packages") or ()),
        sources_digest=data.get("sources_digest", ""),
        source=None if source is None else SourceTree(source["package"], source["commit"]),
        repair=bool(data.get("repair", True)),
    )
    return ProbeRecord(
        request=request,
        outcome=Outcome(data["outcome"]),
        detail=data["detail"],
        resolved=pins_from_mapping(data.get("resolved") or {}),
        error_type=error.get("type"),
        error_message=error.get("message"),
        traceback_tail=error.get("traceback_tail"),
        installer_message=data.get("installer_message"),
        python_full=data.get("python_full"),
        platform=data.get("platform"),
        timings=Timings(
            float(timings.get("resolve", 0)), float(timings.get("install", 0)), float(timings.get("run", 0))
        ),
        started_at=data.get("started_at", ""),
        # Records written before the mode was named as the user names it said "forkserver".
        mode={"forkserver": "fork"}.get(data.get("mode", "isolated"), data.get("mode", "isolated")),
        environment_id=data.get("environment_id"),
        sources=data.get("sources") or {},
        missing_module=_missing_from_json(error.get("missing_module")),
        repairs=tuple(
            Repair(added=r["added"], module=r["module"], imported_by=r.get("imported_by"), reason=r["reason"])
            for r in data.get("repairs") or ()
        ),
    )
