"""The environment-provider seam: a request for pinned packages in, a built environment or a failure out."""

from __future__ import annotations

import abc
import enum
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from harness.model.outcome import Classification
from harness.model.pins import Pin, pin_set
from harness.sources import PackageSources


class InstallStage(enum.Enum):
    RESOLVE = "resolve"
    INSTALL = "install"


@dataclass(frozen=True)
class SourceCheckout:
    """A package to install from a checked-out source tree rather than from the index."""

    package: str
    path: Path
    revision: str
    """What the tree holds (a commit sha): one path holds one commit after another, so the path alone does not
    say which dependencies the tree declares."""


@dataclass(frozen=True)
class EnvironmentRequest:
    pins: tuple[Pin, ...]
    python: str
    sources: PackageSources
    forced: bool = False
    """Apply the pins as overrides, ignoring what other packages declare about them."""
    exclude_newer: str | None = None
    """Resolve unpinned dependencies as the index stood at this ISO-8601 instant."""
    current_packages: tuple[str, ...] = ()
    """Exempt from ``exclude_newer``, besides the pins themselves."""
    extra_requirements: tuple[str, ...] = ()
    source_tree: SourceCheckout | None = None
    """Install this package from the tree, built afresh (never from a cached wheel)."""

    @property
    def digest(self) -> str:
        payload = json.dumps(
            {
                "pins": [str(p) for p in pin_set(self.pins)],
                "python": self.python,
                "sources": self.sources.describe(),
                "forced": self.forced,
                "exclude_newer": self.exclude_newer,
                "current": sorted(self.current_packages),
                "extra": sorted(self.extra_requirements),
                **({} if self.source_tree is None else {"source_tree": _describe(self.source_tree)}),
            },
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:20]


def _describe(tree: SourceCheckout) -> list[str]:
    return [tree.package, str(tree.path), tree.revision]


@dataclass(frozen=True)
class Environment:
    """A ready environment; ``environment_id`` is derived from the fully resolved set, never the request."""

    environment_id: str
    location: Path
    python_executable: Path
    resolved: tuple[Pin, ...]
    resolve_seconds: float
    install_seconds: float
    lock_reused: bool
    environment_reused: bool
    locked: tuple[tuple[str, str, str], ...] = ()
    """(name, version, file URL) of every locked distribution: the identity of what is installed."""


@dataclass(frozen=True)
class BuildFailure:
    stage: InstallStage
    verdict: Classification
    installer_message: str
    resolve_seconds: float
    install_seconds: float


class EnvironmentProvider(abc.ABC):
    @abc.abstractmethod
    def prepare(self, request: EnvironmentRequest, *, fresh: bool = False) -> Environment | BuildFailure:
        """Build (or reuse) an environment; failures caused by the request are returned, not raised."""

    @abc.abstractmethod
    def lock(self, request: EnvironmentRequest, *, fresh: bool = False) -> list[tuple[str, str, str]] | BuildFailure:
        """Resolve without installing: (name, version, file URL) of every locked package."""

    def last_prepared(self, request: EnvironmentRequest) -> Environment | None:
        """The environment ``request`` was last prepared into, if it is still there, found without resolving
        (None: none, or this provider keeps none). A fresh resolution most often finds it again, so a runner
        may get ready in it meanwhile; a probe never runs in it unprepared."""
        return None
