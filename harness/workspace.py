"""Where things live (versions.toml, cases/, reports/, the caches), and the one place the parts are assembled."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar, cast

from packaging.utils import NormalizedName
from packaging.version import Version

from harness.config import discover_cases, load_matrix
from harness.environments.uv import UvEnvironmentProvider
from harness.errors import EnvironmentBuildError
from harness.index.interface import PackageIndex
from harness.model.case import Case
from harness.model.matrix import Matrix, MatrixSpec, expand
from harness.probing.prober import Prober
from harness.probing.record_store import RecordStore
from harness.runners.forkserver import DEFAULT_PRELOAD, ForkServerRunner
from harness.runners.interface import CaseRunner
from harness.runners.isolated import IsolatedRunner
from harness.sources import PackageSources, PipSettings, combine, read_pip_settings


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def at(cls, root: Path | None = None) -> Workspace:
        return cls((root or Path(os.environ.get("HARNESS_ROOT", "."))).resolve())

    @property
    def versions_file(self) -> Path:
        return self.root / "versions.toml"

    @property
    def cases_dir(self) -> Path:
        return self.root / "cases"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def records(self) -> RecordStore:
        return RecordStore(self.reports_dir / "records")

    @property
    def home(self) -> Path:
        """Locks, environments and index listings: a cache that is always safe to delete."""
        return Path(os.environ.get("HARNESS_HOME", self.root / ".harness")).resolve()

    def cases(self, selectors: Sequence[str] = ()) -> list[Case]:
        return discover_cases(self.cases_dir, tuple(selectors))

    def matrix_spec(self, path: Path | None = None) -> MatrixSpec:
        return load_matrix(path or self.versions_file)


def package_sources(spec: MatrixSpec, environ: Mapping[str, str] | None = None) -> PackageSources:
    environ = os.environ if environ is None else environ
    pip = read_pip_settings(environ) if spec.sources.carry_pip_config else PipSettings()
    return combine(
        pip,
        index_url=spec.sources.index_url,
        extra_index_urls=spec.sources.extra_index_urls,
        find_links=spec.sources.find_links,
        index_strategy=spec.sources.index_strategy,
        package_indexes={axis.name: axis.index for axis in spec.axes if axis.index},
        uv_index_strategy_set="UV_INDEX_STRATEGY" in environ,
    )


def release_versions(
    workspace: Workspace, sources: PackageSources, names: Sequence[NormalizedName], *, offline: bool = False
) -> dict[NormalizedName, list[Version]]:
    """Final, unyanked releases of each package from the configured indexes (cached listings)."""
    from harness.index.interface import filter_releases  # noqa: PLC0415 - index clients are only loaded when needed

    index = package_index(workspace, sources, offline=offline)
    return {name: [r.version for r in filter_releases(index.releases(name))] for name in names}


def expand_matrix(workspace: Workspace, spec: MatrixSpec, sources: PackageSources, *, offline: bool = False) -> Matrix:
    """Expand versions.toml; exact versions are checked against the index when it can be reached."""
    from harness.index.interface import IndexUnreachableError  # noqa: PLC0415

    releases: dict[NormalizedName, list[Version]] = {}
    try:
        releases = release_versions(workspace, sources, spec.package_names, offline=offline)
    except IndexUnreachableError:
        if any(axis.needs_index for axis in spec.axes):
            raise
        # Exact versions alone can be probed without a listing; uv reports a missing one per probe.
    return expand(spec, releases)


@dataclass(frozen=True)
class ExpandedMatrix:
    """versions.toml read and expanded once, for every repro of one run (each Nox session) to share."""

    workspace: Workspace
    spec: MatrixSpec
    sources: PackageSources
    matrix: Matrix


def load_expanded_matrix(workspace: Workspace, path: Path | None = None, *, offline: bool = False) -> ExpandedMatrix:
    spec = workspace.matrix_spec(path)
    sources = package_sources(spec)
    return ExpandedMatrix(workspace, spec, sources, expand_matrix(workspace, spec, sources, offline=offline))


def make_runner(mode: str, preload: Sequence[str] = (), *, home: Path | None = None) -> CaseRunner:
    """The runner for ``--mode``; a fork runner keeps each case's imports under ``home`` for the next run."""
    if mode == "fork":
        return ForkServerRunner(preload or DEFAULT_PRELOAD, imports_dir=home / "imports" if home else None)
    return IsolatedRunner()


def make_prober(
    workspace: Workspace,
    spec: MatrixSpec,
    sources: PackageSources,
    *,
    fresh: bool,
    mode: str = "fork",
    preload: Sequence[str] = (),
    repeat: int | None = None,
    repair: bool = True,
    offline: bool = False,
) -> Prober:
    """The one place that assembles an environment provider, a case runner and a record store.

    With ``repair``, a probe missing an undeclared dependency asks the configured index (lazily) for it.
    """
    from harness.probing.finder import IndexDistributionFinder  # noqa: PLC0415 - index clients load when needed

    finder = IndexDistributionFinder(lambda: package_index(workspace, sources, offline=offline), _print_warning)
    return Prober(
        UvEnvironmentProvider(workspace.home),
        make_runner(mode, preload, home=workspace.home),
        workspace.records,
        python=spec.python,
        sources=sources,
        fresh=fresh,
        repeat=repeat,
        find_distribution=finder if repair else None,
    )


class Closable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=Closable)


class KeptProbers:
    """Probers kept open across several repro commands in one process: the sessions of one Nox run.

    ``nox -s repro`` runs one session per combination, one after another in the Nox process; keeping the
    probers (and so their fork workers, with torch imported) lets all of them share two workers instead of
    starting one per session. ``close`` ends the workers; the noxfile calls it at exit.
    """

    def __init__(self) -> None:
        self._probers: dict[tuple[object, ...], Prober] = {}
        self._companions: dict[int, Closable] = {}
        self._lock = threading.Lock()

    def prober(
        self,
        workspace: Workspace,
        spec: MatrixSpec,
        sources: PackageSources,
        *,
        fresh: bool,
        mode: str,
        preload: Sequence[str] = (),
        repeat: int | None = None,
        repair: bool = True,
        offline: bool = False,
    ) -> Prober:
        """The prober made for these settings the first time, or a new one kept for the next command."""
        key = (workspace, spec, sources, fresh, mode, tuple(preload), repeat, repair, offline)
        with self._lock:
            prober = self._probers.get(key)
            if prober is None:
                prober = make_prober(
                    workspace,
                    spec,
                    sources,
                    fresh=fresh,
                    mode=mode,
                    preload=preload,
                    repeat=repeat,
                    repair=repair,
                    offline=offline,
                )
                self._probers[key] = prober
        return prober

    def companion(self, prober: Prober, make: Callable[[], C]) -> C:
        """The object ``make`` built for ``prober`` the first time (the sessions' lookahead), kept beside it."""
        with self._lock:
            found = self._companions.get(id(prober))
            if found is None:
                found = self._companions[id(prober)] = make()
        return cast(C, found)

    def close(self) -> None:
        with self._lock:
            probers, self._probers = list(self._probers.values()), {}
            companions, self._companions = list(self._companions.values()), {}
        # Companions first: probes they still run need the workers that the probers' runners hold.
        for companion in companions:
            companion.close()
        for prober in probers:
            prober.close()


def python_available(prober: Prober, python: str) -> str | None:
    """None when uv finds an interpreter for ``python``; else uv's reason, in one line.

    Asked through the prober's own provider, which remembers each interpreter for the probes that follow.
    """
    provider = prober.provider
    try:
        if isinstance(provider, UvEnvironmentProvider):
            provider.interpreter(python)
    except EnvironmentBuildError as exc:
        reason = str(exc)
        if "/.pyenv/shims/" in reason:
            # uv stops at the first shim that fails, and pyenv's shims answer only for its selected versions.
            reason += " (pyenv: name every version you need in `pyenv global` or PYENV_VERSION)"
        return reason
    return None


def package_index(workspace: Workspace, sources: PackageSources, *, offline: bool = False) -> PackageIndex:
    """The configured indexes as one, with listings cached under the harness home.

    ``offline`` answers from cached listings only. A problem worked around (a stale listing used because the
    index could not be reached) is printed as it happens, since it can change what a run probes.
    """
    from harness.index.combined import index_for  # noqa: PLC0415 - index clients are only loaded when needed

    return index_for(sources, cache_dir=workspace.home / "index", offline=offline, on_warning=_print_warning)


def _print_warning(message: str) -> None:
    print(f"harness: warning: {message}", file=sys.stderr)
