"""Environments built by uv: resolve to a PEP 751 lock, then install the lock into a venv keyed by its content.

Two caches make repeated probes cheap without ever being stale: a lock is reused for an identical request,
and an environment is reused only when the fully resolved set of files is identical (its id hashes the lock's
packages and the interpreter), never on the strength of the request alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

from packaging.pylock import Package
from packaging.utils import canonicalize_name

from harness import process
from harness.environments.find_links import hashed_find_links
from harness.environments.interface import (
    BuildFailure,
    Environment,
    EnvironmentProvider,
    EnvironmentRequest,
    InstallStage,
)
from harness.environments.uv_messages import (
    absent_packages,
    classify_install_failure,
    missing_locations,
    summarize_installer_output,
)
from harness.errors import EnvironmentBuildError, HarnessError
from harness.files import write_atomically
from harness.model.outcome import Classification, Outcome
from harness.model.pins import Pin, pin_set
from harness.pinsources.pylock import load_pylock

READY_MARKER = ".harness-ready-v2.json"
UNRESOLVABLE_FILE = "unresolvable.json"
"""Beside a request's lock, in its place: the proof that the request cannot resolve, kept where that is fixed."""
RESOLVE_TIMEOUT = 900.0
INSTALL_TIMEOUT = 1800.0


def find_uv() -> str:
    """The uv binary that ships with the ``uv`` package when installed, else the one on PATH."""
    try:
        from uv import find_uv_bin  # noqa: PLC0415 - optional: a uv on PATH is just as good

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found is None:
            raise EnvironmentBuildError("uv is not installed; run: python -m pip install uv") from None
        return found


class UvEnvironmentProvider(EnvironmentProvider):
    def __init__(self, home: Path, *, uv: str | None = None, environ: Mapping[str, str] | None = None) -> None:
        self.home = home.resolve()
        self.uv = uv or find_uv()
        base = dict(os.environ if environ is None else environ)
        # uv must target the environments we name, not whichever venv the harness itself runs in.
        for variable in ("VIRTUAL_ENV", "CONDA_PREFIX", "UV_PROJECT_ENVIRONMENT"):
            base.pop(variable, None)
        base.setdefault("UV_PYTHON_DOWNLOADS", "never")
        base["NO_COLOR"] = "1"
        self._uv_env = base
        self._interpreters: dict[str, tuple[Path, str]] = {}
        self._resolved: set[str] = set()
        """Requests this provider resolved itself: ``fresh`` asks for a resolution made now, and once per run is
        enough (a bisection's confirmation and a probe run ahead ask for the same request again). A request
        resolved as the index stood in the past needs none (``fixed_in_time``)."""

    def interpreter(self, python: str) -> tuple[Path, str]:
        """The base interpreter for a Python request (``3.11``, a path) and its full version."""
        if python not in self._interpreters:
            found = process.run([self.uv, "python", "find", python], env=self._uv_env, timeout=60)
            if not found.ok:
                raise EnvironmentBuildError(
                    f"no Python interpreter matches {python!r}: {summarize_installer_output(found.output, max_lines=1)}"
                )
            path = Path(found.stdout.strip())
            version = process.run([path, "-c", "import platform; print(platform.python_version())"], timeout=60)
            self._interpreters[python] = (path, version.stdout.strip())
        return self._interpreters[python]

    def lock(self, request: EnvironmentRequest, *, fresh: bool = False) -> list[tuple[str, str, str]] | BuildFailure:
        """Resolve without installing: (name, version, file URL) of every package the request locks to."""
        with self._request_lock(request):
            locked = self._locked(request, fresh=fresh)
        return locked if isinstance(locked, BuildFailure) else locked[0]

    def prepare(self, request: EnvironmentRequest, *, fresh: bool = False) -> Environment | BuildFailure:
        """Resolve (``fresh`` resolves again a request this provider has not resolved itself) and install,
        reusing what is identical.

        The request's lock is held from resolving to installing, by threads and processes alike, so that no
        builder ever reads a lock file that another is replacing; environment locks are taken inside it, in
        that order only.
        """
        with self._request_lock(request):
            return self._prepare(request, fresh=fresh)

    def last_prepared(self, request: EnvironmentRequest) -> Environment | None:
        """Read from the request's stored lock, without its lock held: a resolution replacing the lock meanwhile
        leaves either the old one or none, and a source tree's environment is never the same twice."""
        if request.source_tree is not None:
            return None
        try:
            interpreter, python_version = self.interpreter(request.python)
            packages = _read_lock(self._lock_dir(request) / "pylock.toml")
            if _from_source_tree(packages):
                return None
            environment_id = _environment_id(interpreter, python_version, packages)
            location = self.home / "envs" / environment_id
            return _ready_environment(environment_id, location, packages, lock_reused=True, environment_reused=True)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, HarnessError):
            return None  # no lock or no environment yet, one being replaced, or a marker not of our making

    def _request_lock(self, request: EnvironmentRequest) -> contextlib.AbstractContextManager[None]:
        return _exclusive(self.home / "locks" / f"{request.digest}.lock")

    def _lock_dir(self, request: EnvironmentRequest) -> Path:
        return self.home / "locks" / request.digest

    def _locked(
        self, request: EnvironmentRequest, *, fresh: bool
    ) -> tuple[list[tuple[str, str, str]], Path, float, bool] | BuildFailure:
        interpreter, _ = self.interpreter(request.python)
        lock_dir = self._lock_dir(request)
        lock_file = lock_dir / "pylock.toml"
        lock_reused = lock_file.is_file() and (not fresh or request.digest in self._resolved or fixed_in_time(request))
        resolve_seconds = 0.0
        if not lock_reused:
            known = _kept_failure(request, lock_dir)
            if known is not None:
                return known
            resolved = self._resolve(request, interpreter, lock_dir)
            if isinstance(resolved, BuildFailure):
                if failure_fixed_in_time(request, resolved):
                    lock_dir.mkdir(parents=True, exist_ok=True)
                    write_atomically(lock_dir / UNRESOLVABLE_FILE, json.dumps(_failure_fields(resolved), indent=1))
                return resolved
            resolve_seconds = resolved
            self._resolved.add(request.digest)
        return _read_lock(lock_file), lock_file, resolve_seconds, lock_reused

    def _prepare(self, request: EnvironmentRequest, *, fresh: bool) -> Environment | BuildFailure:
        interpreter, python_version = self.interpreter(request.python)
        locked = self._locked(request, fresh=fresh)
        if isinstance(locked, BuildFailure):
            return locked
        packages, lock_file, resolve_seconds, lock_reused = locked
        environment_id = _environment_id(interpreter, python_version, packages)
        location = self.home / "envs" / environment_id
        with _exclusive(self.home / "envs" / f"{environment_id}.lock"):
            # The id hashes every locked file, so a ready environment is exactly what the lock asks for, even
            # with `fresh` (which re-resolves); only a source tree can change behind the same lock.
            from_source = request.source_tree is not None or _from_source_tree(packages)
            ready = (location / READY_MARKER).is_file() and not from_source
            install_seconds = 0.0
            if not ready:
                installed = self._install(interpreter, lock_file, location, packages, from_source=from_source)
                if isinstance(installed, BuildFailure):
                    return BuildFailure(
                        installed.stage,
                        installed.verdict,
                        installed.installer_message,
                        resolve_seconds,
                        installed.install_seconds,
                    )
                install_seconds = installed
        return _ready_environment(
            environment_id,
            location,
            packages,
            resolve_seconds=resolve_seconds,
            install_seconds=install_seconds,
            lock_reused=lock_reused,
            environment_reused=ready,
        )

    def _resolve(self, request: EnvironmentRequest, interpreter: Path, lock_dir: Path) -> float | BuildFailure:
        # A folder of this attempt's own: never shared with another thread or process.
        lock_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{lock_dir.name}.staging-", dir=lock_dir.parent))
        (staging / "pyproject.toml").write_text(_probe_project(request), encoding="utf-8")
        argv: list[str | Path] = [
            self.uv,
            "pip",
            "compile",
            "pyproject.toml",
            "--output-file",
            "pylock.toml",
            "--quiet",
            "--no-header",
            "--python",
            interpreter,
            *request.sources.uv_arguments(hashed_find_links(request.sources.find_links, self.home / "find-links")),
        ]
        if request.forced:
            (staging / "overrides.txt").write_text("".join(f"{pin}\n" for pin in request.pins), encoding="utf-8")
            argv += ["--override", "overrides.txt"]
        if request.exclude_newer:
            argv += ["--exclude-newer", request.exclude_newer]
            # Pinned packages are what the probe asks for, whatever their date; only the rest travels in time.
            exempt = sorted({*(pin.name for pin in request.pins), *request.current_packages})
            for name in exempt:
                argv += ["--exclude-newer-package", f"{name}=2999-01-01T00:00:00Z"]
        result = process.run(argv, cwd=staging, env=self._uv_env, timeout=RESOLVE_TIMEOUT)
        if not result.ok:
            shutil.rmtree(staging, ignore_errors=True)
            sources = request.sources
            where = [*filter(None, [sources.index_url]), *sources.extra_index_urls, *sources.find_links]
            where += [url for _, url in sources.package_indexes]
            return _failure(InstallStage.RESOLVE, result, where, resolve_seconds=result.seconds)
        shutil.rmtree(lock_dir, ignore_errors=True)
        try:
            os.replace(staging, lock_dir)
        except OSError:
            # Another process resolved the same request meanwhile; its lock is as good as ours.
            shutil.rmtree(staging, ignore_errors=True)
        return result.seconds

    def _install(
        self,
        interpreter: Path,
        lock_file: Path,
        location: Path,
        packages: list[tuple[str, str, str]],
        *,
        from_source: bool,
    ) -> float | BuildFailure:
        shutil.rmtree(location, ignore_errors=True)
        created = process.run(
            [self.uv, "venv", "--quiet", "--python", interpreter, location], env=self._uv_env, timeout=120
        )
        # uv caches wheels it built from a source tree by the tree's metadata files, which a checkout of
        # another commit may leave unchanged: with a source tree, install without the cache (--refresh would
        # do, but uv refuses it offline).
        rebuild = ["--no-cache"] if from_source else []
        synced = (
            process.run(
                [self.uv, "pip", "sync", "--quiet", "--python", location / "bin" / "python", lock_file, *rebuild],
                env=self._uv_env,
                timeout=INSTALL_TIMEOUT,
            )
            if created.ok
            else created
        )
        seconds = created.seconds + (synced.seconds if synced is not created else 0.0)
        if not synced.ok:
            shutil.rmtree(location, ignore_errors=True)
            return _failure(InstallStage.INSTALL, synced, [url for _, _, url in packages], install_seconds=seconds)
        listed = process.run(
            [self.uv, "pip", "list", "--format", "json", "--python", location / "bin" / "python"],
            env=self._uv_env,
            timeout=120,
        )
        installed = json.loads(listed.stdout) if listed.ok else []
        marker = {
            "locked": [{"name": n, "version": v, "url": u} for n, v, u in packages],
            "installed": {item["name"]: item["version"] for item in installed},
        }
        (location / READY_MARKER).write_text(json.dumps(marker, indent=1), encoding="utf-8")
        return seconds


def _failure(
    stage: InstallStage,
    result: process.Completed,
    locations: list[str],
    *,
    resolve_seconds: float = 0.0,
    install_seconds: float = 0.0,
) -> BuildFailure:
    output = result.output if not result.timed_out else f"{stage.value} timed out\n{result.output}"
    # A local index folder or wheel that is not there makes uv's "not found" no proof: an accident, not a verdict.
    verdict = classify_install_failure(
        stage, output, interrupted=result.timed_out or result.returncode < 0, missing=missing_locations(locations)
    )
    return BuildFailure(stage, verdict, output[-4000:], resolve_seconds, install_seconds)


def _probe_project(request: EnvironmentRequest) -> str:
    """A throw-away pyproject.toml whose dependencies are the request; uv's sources pin per-package indexes."""
    # Forced pins go to uv as overrides; the project then only names the packages.
    dependencies: list[str] = [pin.name if request.forced else str(pin) for pin in request.pins]
    dependencies += request.extra_requirements
    if request.source_tree is not None:
        dependencies.append(f"{request.source_tree.package} @ {request.source_tree.path.resolve().as_uri()}")
    lines = ["[project]", 'name = "harness-probe"', 'version = "0"', f"dependencies = {json.dumps(dependencies)}", ""]
    if request.sources.package_indexes:
        lines.append("[tool.uv.sources]")
        lines += [f'{name} = {{ index = "harness-{name}" }}' for name, _ in request.sources.package_indexes]
        lines.append("")
        for name, url in request.sources.package_indexes:
            lines += [
                "[[tool.uv.index]]",
                f'name = "harness-{name}"',
                f"url = {json.dumps(url)}",
                "explicit = true",
                "",
            ]
    return "\n".join(lines)


def fixed_in_time(request: EnvironmentRequest, now: datetime | None = None) -> bool:
    """Whether resolving ``request`` again would find what its stored lock holds: its ``--exclude-newer`` lies in
    the past and nothing is built from a source tree, so every file uploaded since is excluded by its upload
    time. A fresh run (which re-resolves requests as of today) reuses such a lock, and a conflict the resolver
    proved for it (``failure_fixed_in_time``); a release yanked since is the one thing it keeps, as a historical
    environment should."""
    if request.exclude_newer is None or request.source_tree is not None:
        return False
    try:
        bound = datetime.fromisoformat(request.exclude_newer)
    except ValueError:
        return False
    if bound.tzinfo is None:
        bound = bound.replace(tzinfo=UTC)
    return bound < (now or datetime.now(UTC))


def failure_fixed_in_time(request: EnvironmentRequest, failure: BuildFailure) -> bool:
    """Whether failing to resolve ``request`` is as fixed as its lock would be (``fixed_in_time``): the resolver
    proved a conflict among files the index had at that instant, and the proof rests on no release missing from
    a package exempt from the instant (the pinned ones and ``current_packages``: a later upload may add it)."""
    if failure.verdict.outcome is not Outcome.UNRESOLVABLE or not fixed_in_time(request):
        return False
    exempt = {canonicalize_name(name) for name in (*(pin.name for pin in request.pins), *request.current_packages)}
    return not absent_packages(f"{failure.verdict.detail}\n{failure.installer_message}") & exempt


def _failure_fields(failure: BuildFailure) -> dict[str, str]:
    return {"detail": failure.verdict.detail, "installer_message": failure.installer_message}


def _kept_failure(request: EnvironmentRequest, lock_dir: Path) -> BuildFailure | None:
    """The resolution failure kept for ``request``, when it still counts as fixed (None: none, or unreadable)."""
    try:
        fields = json.loads((lock_dir / UNRESOLVABLE_FILE).read_text(encoding="utf-8"))
        verdict = Classification(Outcome.UNRESOLVABLE, str(fields["detail"]))
        failure = BuildFailure(InstallStage.RESOLVE, verdict, str(fields["installer_message"]), 0.0, 0.0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return failure if failure_fixed_in_time(request, failure) else None


def _read_lock(lock_file: Path) -> list[tuple[str, str, str]]:
    """(name, version, file URL) for every package of a PEP 751 lock written by uv."""
    # Old releases' sdists (.tar.bz2) are as uv found them on the index; only the newer naming rule refuses them.
    lock = load_pylock(lock_file.read_text(encoding="utf-8"), str(lock_file), legacy_sdists=True)
    return sorted((package.name, str(package.version or ""), _origin(package)) for package in lock.packages)


def _origin(package: Package) -> str:
    if package.wheels:
        origin = package.wheels[0].url or ""
    elif package.sdist is not None:
        origin = package.sdist.url or ""
    else:
        origin = (package.archive.url if package.archive is not None else None) or ""
    if not origin:
        # A source tree (the commit phase) has no file URL and no version in the lock: its path stands in.
        origin = "directory:" + (package.directory.path if package.directory is not None else "")
    return origin


def _from_source_tree(packages: list[tuple[str, str, str]]) -> bool:
    """Whether the lock builds a package from a source tree (the commit phase), which no lock pins down."""
    return any(url.startswith("directory:") for _, _, url in packages)


def _ready_environment(
    environment_id: str,
    location: Path,
    packages: list[tuple[str, str, str]],
    *,
    lock_reused: bool,
    environment_reused: bool,
    resolve_seconds: float = 0.0,
    install_seconds: float = 0.0,
) -> Environment:
    """The environment installed at ``location`` from the lock ``packages``."""
    return Environment(
        environment_id=environment_id,
        location=location,
        python_executable=location / "bin" / "python",
        resolved=_installed(location),
        resolve_seconds=resolve_seconds,
        install_seconds=install_seconds,
        lock_reused=lock_reused,
        environment_reused=environment_reused,
        locked=tuple(packages),
    )


def _installed(location: Path) -> tuple[Pin, ...]:
    """Every distribution installed in the environment, as the installer reported it after installing."""
    marker = json.loads((location / READY_MARKER).read_text(encoding="utf-8"))
    return pin_set(Pin.of(name, version) for name, version in marker.get("installed", {}).items())


def _environment_id(interpreter: Path, python_version: str, packages: list[tuple[str, str, str]]) -> str:
    payload = json.dumps([str(interpreter), python_version, packages])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Serialize builders of one environment across processes (parallel sessions, CI jobs on one host)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
