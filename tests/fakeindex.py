"""Offline package fixtures for the tests: hand-made wheels, a fake package that breaks in known versions, and
local indexes (a PEP 503 ``file://`` directory and a loopback PEP 691 server) to install and list them from.

Typical use::

    fake = make_fake_package(tmp_path / "wheels")            # fakepkg 1.0..1.9, 1.4-1.6 raise FakeError
    make_fake_dependency(tmp_path / "wheels")                # fakedep 1.0 and 2.0 next to it
    url = write_simple_index(tmp_path / "wheels", tmp_path / "simple")   # file:// index for uv --index-url
    with serve_pep691(tmp_path / "wheels", yanked={"fakepkg==1.9": "broken"}) as base_url:
        ...                                                  # http://127.0.0.1:PORT/simple/
"""

from __future__ import annotations

import base64
import csv
import email.parser
import enum
import hashlib
import html
import io
import json
import os
import threading
import zipfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from packaging.requirements import Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from harness.index.local import read_wheel_metadata
from harness.model.outcome import Outcome
from harness.model.pins import Pin

FAKE_ERROR_TEMPLATE = "shape mismatch for pattern 'n -> n 1': got 2 dims (input shape (1, {n}))"
"""The message ``compute(n)`` raises in the bad versions; the stable part is ``pattern 'n -> n 1'``."""
OTHER_ERROR_TEMPLATE = "compute() cannot handle n={n} in this release"
"""The message of the ``TypeError`` that ``other_error`` versions raise instead."""
DEFAULT_VERSIONS: tuple[str, ...] = tuple(f"1.{minor}" for minor in range(10))
DEFAULT_BAD: frozenset[str] = frozenset({"1.4", "1.5", "1.6"})
IMPOSSIBLE_REQUIREMENT = "fakedep>=9"
"""What ``unresolvable`` versions require: no fakedep 9 exists, so no resolver can install them."""
UPLOAD_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
"""Default upload times: the k-th version (0-based, ascending) of a package is uploaded k days after this."""
PEP691_CONTENT_TYPE = "application/vnd.pypi.simple.v1+json"
WHEEL_TAG = "py3-none-any"


def fake_error_message(n: int) -> str:
    return FAKE_ERROR_TEMPLATE.format(n=n)


def good_result(n: int) -> list[list[int]]:
    """What ``compute(n)`` returns in the good versions (``n -> n 1`` done right)."""
    return [[i] for i in range(n)]


class Behaviour(enum.Enum):
    """What one version of the fake package does when its ``compute`` is called (or whether it installs)."""

    PASS = "pass"
    RAISE = "raise"
    OTHER_ERROR = "other_error"
    HANG = "hang"
    CRASH = "crash"
    UNRESOLVABLE = "unresolvable"
    FLAKY = "flaky"
    """Raises ``FakeError`` in every other run: when ``HARNESS_RUN_INDEX`` plus the version's rank is even."""

    @property
    def expected_outcome(self) -> Outcome:
        """The outcome a probe should classify this version as, for a signature on ``FakeError``."""
        return {
            Behaviour.PASS: Outcome.PASSED,
            Behaviour.RAISE: Outcome.REPRODUCED,
            Behaviour.OTHER_ERROR: Outcome.DIFFERENT_ERROR,
            Behaviour.HANG: Outcome.TIMEOUT,
            Behaviour.CRASH: Outcome.CRASHED,
            Behaviour.UNRESOLVABLE: Outcome.UNRESOLVABLE,
            Behaviour.FLAKY: Outcome.FLAKY,
        }[self]


@dataclass(frozen=True)
class FakePackage:
    """The wheels ``make_fake_package`` / ``make_fake_dependency`` wrote, and what each version does."""

    name: NormalizedName
    module: str
    """The import name (``fakepkg``); the error type is ``f"{module}.FakeError"``."""
    wheels: Mapping[Version, Path]
    behaviours: Mapping[Version, Behaviour]

    @property
    def versions(self) -> tuple[Version, ...]:
        return tuple(sorted(self.wheels))

    @property
    def error_type(self) -> str:
        return f"{self.module}.FakeError"

    def wheel(self, version: str | Version) -> Path:
        return self.wheels[Version(str(version))]

    def behaviour(self, version: str | Version) -> Behaviour:
        return self.behaviours[Version(str(version))]

    def expected_outcome(self, version: str | Version) -> Outcome:
        return self.behaviour(version).expected_outcome

    def first_bad(self) -> Version | None:
        """The lowest version that reproduces the failure, which a bisection should find."""
        bad = (Behaviour.RAISE, Behaviour.FLAKY)
        return next((v for v in self.versions if self.behaviours[v] in bad), None)

    def reproduces_in_run(self, version: str | Version, run_index: int) -> bool:
        """Whether run ``run_index`` of a probe of ``version`` raises ``FakeError`` (flaky versions alternate)."""
        behaviour = self.behaviour(version)
        if behaviour is Behaviour.FLAKY:
            return flaky_fails(self.versions.index(Version(str(version))), run_index)
        return behaviour is Behaviour.RAISE


def flaky_fails(rank: int, run_index: int) -> bool:
    """The rule a ``flaky`` version's ``compute`` follows: fail when run index plus rank is even. Seeded by the
    run index the harness sets, so a flaky test is deterministic, and shifted by rank so that one run's luck
    differs between neighbouring versions."""
    return (run_index + rank) % 2 == 0


def isolated_uv_env(cache_dir: Path) -> dict[str, str]:
    """The environment for running uv in a test: no user or machine configuration, no Python downloads,
    its own cache, and none of the caller's ``UV_*`` / ``PIP_*`` settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("UV_", "PIP_"))}
    env.update({"UV_CACHE_DIR": str(cache_dir), "UV_NO_CONFIG": "1", "UV_PYTHON_DOWNLOADS": "never"})
    return env


# --- wheels -----------------------------------------------------------------------------------------------


def wheel_filename(name: str, version: str) -> str:
    return f"{_escaped(name)}-{Version(version)}-{WHEEL_TAG}.whl"


def build_wheel(
    dest: Path,
    name: str,
    version: str,
    *,
    module_source: Mapping[str, str],
    requires: Sequence[str] = (),
    requires_python: str | None = None,
    project_urls: Mapping[str, str] | None = None,
) -> Path:
    """Write a pure-Python wheel into ``dest`` by hand (no build backend) and return its path.

    ``module_source`` maps paths inside the wheel (``"fakepkg/__init__.py"``) to their text. The archive is
    byte-for-byte reproducible: same arguments, same sha256.
    """
    normalized_version = str(Version(version))
    for requirement in requires:
        Requirement(requirement)  # fail here, not inside uv, on a malformed requirement
    dist_info = f"{_escaped(name)}-{normalized_version}.dist-info"
    files: dict[str, bytes] = {}
    for path, text in module_source.items():
        pure = PurePosixPath(path)
        if pure.is_absolute() or ".." in pure.parts or pure.parts[0].endswith(".dist-info"):
            raise ValueError(f"{path!r} cannot be a module path inside a wheel")
        files[str(pure)] = text.encode("utf-8")
    files[f"{dist_info}/METADATA"] = _metadata(name, normalized_version, requires, requires_python, project_urls)
    files[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: tests.fakeindex\nRoot-Is-Purelib: true\nTag: {WHEEL_TAG}\n"
    ).encode()
    record_path = f"{dist_info}/RECORD"
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for path, data in files.items():
        writer.writerow([path, f"sha256={record_hash(data)}", len(data)])
    writer.writerow([record_path, "", ""])
    files[record_path] = record.getvalue().encode()

    dest.mkdir(parents=True, exist_ok=True)
    target = dest / wheel_filename(name, normalized_version)
    with zipfile.ZipFile(target, "w") as archive:
        for path, data in files.items():
            info = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return target


def record_hash(data: bytes) -> str:
    """A RECORD digest: urlsafe base64 of the sha256, without padding (the wheel spec's form)."""
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")


def _metadata(
    name: str,
    version: str,
    requires: Sequence[str],
    requires_python: str | None,
    project_urls: Mapping[str, str] | None,
) -> bytes:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"Requires-Dist: {requirement}" for requirement in requires]
    lines += [f"Project-URL: {label}, {url}" for label, url in (project_urls or {}).items()]
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def _escaped(name: str) -> str:
    return canonicalize_name(name).replace("-", "_")


# --- the fake package -------------------------------------------------------------------------------------

_MODULE_TEMPLATE = '''\
"""{name} {version}: a stand-in dependency written by tests.fakeindex (behaviour: {behaviour})."""

import os
import signal
import time

__version__ = "{version}"
BEHAVIOUR = "{behaviour}"
RANK = {rank}


class FakeError(Exception):
    """The failure the harness tests reproduce."""


def compute(n):
    if BEHAVIOUR == "flaky" and (int(os.environ.get("HARNESS_RUN_INDEX", "0")) + RANK) % 2 == 0:
        raise FakeError(f{error_template!r})
    if BEHAVIOUR == "raise":
        raise FakeError(f{error_template!r})
    if BEHAVIOUR == "other_error":
        raise TypeError(f{other_template!r})
    if BEHAVIOUR == "hang":
        while True:
            time.sleep(3600)
    if BEHAVIOUR == "crash":
        os.kill(os.getpid(), signal.SIGKILL)
    return [[i] for i in range(n)]
'''


def make_fake_package(
    dest: Path,
    name: str = "fakepkg",
    versions: Sequence[str] = DEFAULT_VERSIONS,
    bad: Collection[str] = DEFAULT_BAD,
    *,
    hang: Collection[str] = (),
    crash: Collection[str] = (),
    other_error: Collection[str] = (),
    unresolvable: Collection[str] = (),
    flaky: Collection[str] = (),
    requires: Mapping[str, Sequence[str]] | None = None,
    requires_python: str | None = None,
    project_urls: Mapping[str, str] | None = None,
    undeclared: Mapping[str, Sequence[str]] | None = None,
) -> FakePackage:
    """Wheels of a package whose ``compute(n)`` raises ``FakeError`` in ``bad`` versions and works in the rest.

    ``hang`` versions sleep forever, ``crash`` versions SIGKILL their own process, ``other_error`` versions
    raise a ``TypeError``, ``unresolvable`` versions require ``fakedep>=9`` (which never exists), ``flaky``
    versions raise ``FakeError`` in every other run (``flaky_fails``);
    ``requires`` adds requirements per version, e.g. ``{"1.5": ["fakedep>=2"]}``. A version in several sets
    takes the first of: unresolvable, hang, crash, other_error, flaky, bad. ``undeclared`` names, per version,
    modules that the version imports (from ``{module}/_extras.py``, at import time) without declaring them.
    """
    module = _escaped(name)
    extra = {str(Version(v)): list(reqs) for v, reqs in (requires or {}).items()}
    wheels: dict[Version, Path] = {}
    behaviours: dict[Version, Behaviour] = {}
    ranks = {version: rank for rank, version in enumerate(sorted(Version(text) for text in versions))}
    for text in versions:
        version = Version(text)
        behaviour = _behaviour(
            version, bad=bad, hang=hang, crash=crash, other=other_error, unresolvable=unresolvable, flaky=flaky
        )
        source = _MODULE_TEMPLATE.format(
            name=name,
            version=version,
            behaviour=behaviour.value,
            rank=ranks[version],
            error_template=FAKE_ERROR_TEMPLATE,
            other_template=OTHER_ERROR_TEMPLATE,
        )
        files = {f"{module}/__init__.py": source}
        imports = (undeclared or {}).get(str(version), ())
        if imports:
            files[f"{module}/_extras.py"] = "".join(f"import {name}\n" for name in imports)
            files[f"{module}/__init__.py"] += "\nfrom . import _extras  # what this release imports undeclared\n"
        reqs = extra.get(str(version), [])
        if behaviour is Behaviour.UNRESOLVABLE:
            reqs = [*reqs, IMPOSSIBLE_REQUIREMENT]
        wheels[version] = build_wheel(
            dest,
            name,
            str(version),
            module_source=files,
            requires=reqs,
            requires_python=requires_python,
            project_urls=project_urls,
        )
        behaviours[version] = behaviour
    return FakePackage(canonicalize_name(name), module, wheels, behaviours)


def make_fake_dependency(dest: Path, name: str = "fakedep", versions: Sequence[str] = ("1.0", "2.0")) -> FakePackage:
    """A companion package whose module exposes ``VERSION``, so tests can build combinations a resolver rejects."""
    module = _escaped(name)
    wheels: dict[Version, Path] = {}
    for text in versions:
        source = f'"""{name} {text}: a companion of the fake package."""\n\nVERSION = "{Version(text)}"\n'
        wheels[Version(text)] = build_wheel(dest, name, text, module_source={f"{module}/__init__.py": source})
    return FakePackage(canonicalize_name(name), module, wheels, dict.fromkeys(wheels, Behaviour.PASS))


def _behaviour(
    version: Version,
    *,
    bad: Collection[str],
    hang: Collection[str],
    crash: Collection[str],
    other: Collection[str],
    unresolvable: Collection[str],
    flaky: Collection[str] = (),
) -> Behaviour:
    for members, behaviour in (
        (unresolvable, Behaviour.UNRESOLVABLE),
        (hang, Behaviour.HANG),
        (crash, Behaviour.CRASH),
        (other, Behaviour.OTHER_ERROR),
        (flaky, Behaviour.FLAKY),
        (bad, Behaviour.RAISE),
    ):
        if version in {Version(v) for v in members}:
            return behaviour
    return Behaviour.PASS


# --- indexes ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DistFile:
    """A wheel or sdist found in a folder, with what an index page says about it."""

    path: Path
    project: NormalizedName
    version: Version

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    @property
    def metadata(self) -> str | None:
        return read_wheel_metadata(self.path) if self.path.suffix == ".whl" else None

    @property
    def requires_python(self) -> str | None:
        metadata = self.metadata
        if metadata is None:
            return None
        value = email.parser.HeaderParser().parsestr(metadata).get("Requires-Python")
        return str(value) if value else None


def scan_distributions(folder: Path) -> dict[NormalizedName, list[DistFile]]:
    """The wheels and sdists directly inside ``folder``, by project, each list ascending by version."""
    found: dict[NormalizedName, list[DistFile]] = {}
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        try:
            if path.name.endswith(".whl"):
                project, version, _, _ = parse_wheel_filename(path.name)
            elif path.name.endswith((".tar.gz", ".zip")):
                project, version = parse_sdist_filename(path.name)
            else:
                continue
        except (InvalidWheelFilename, InvalidSdistFilename):
            continue
        found.setdefault(project, []).append(DistFile(path, project, version))
    for files in found.values():
        files.sort(key=lambda f: (f.version, f.path.name))
    return found


def write_simple_index(wheels_dir: Path, index_root: Path, *, yanked: Mapping[str, str] | None = None) -> str:
    """Write a PEP 503 HTML index of ``wheels_dir`` under ``index_root`` and return its ``file://`` URL.

    Links are relative (``../../wheels/x.whl#sha256=...``) like the machine's ``/opt/pypi`` indexes; each
    carries ``data-requires-python`` from the wheel and ``data-yanked`` for ``yanked`` (``"name==version"`` ->
    reason).
    """
    yanked_pins = {Pin.parse(pin): reason for pin, reason in (yanked or {}).items()}
    projects = scan_distributions(wheels_dir)
    index_root.mkdir(parents=True, exist_ok=True)
    links = "\n".join(f'<a href="{quote(name)}/">{html.escape(name)}</a>' for name in projects)
    (index_root / "index.html").write_text(_page("Simple index", links), encoding="utf-8")
    for name, files in projects.items():
        page_dir = index_root / name
        page_dir.mkdir(exist_ok=True)
        anchors = []
        for dist in files:
            href = quote(os.path.relpath(dist.path.resolve(), page_dir.resolve()).replace(os.sep, "/"))
            attributes = f'href="{href}#sha256={dist.sha256}"'
            if dist.requires_python:
                attributes += f' data-requires-python="{html.escape(dist.requires_python)}"'
            reason = yanked_pins.get(Pin(name, dist.version))
            if reason is not None:
                attributes += f' data-yanked="{html.escape(reason)}"'
            anchors.append(f"<a {attributes}>{html.escape(dist.path.name)}</a>")
        (page_dir / "index.html").write_text(_page(f"Links for {name}", "\n".join(anchors)), encoding="utf-8")
    return index_root.resolve().as_uri()


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.0">'
        f"<title>{html.escape(title)}</title></head><body>\n{body}\n</body></html>\n"
    )


def pep700_time(moment: datetime) -> str:
    """An upload time as PEP 700 writes it: UTC, microseconds, a ``Z``. Naive datetimes count as UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def project_json(
    name: NormalizedName,
    files: Sequence[DistFile],
    *,
    files_url: str,
    upload_times: Mapping[str, datetime] | None = None,
    yanked: Mapping[str, str] | None = None,
    announce_metadata: bool = True,
) -> dict[str, Any]:
    """The PEP 691 (API 1.1, with PEP 700 fields) project page for ``files``, linking to ``files_url + name``.

    ``upload_times`` and ``yanked`` are keyed by ``"name==version"``; versions without an explicit time get
    ``UPLOAD_EPOCH`` plus their 0-based rank in days. With ``announce_metadata`` off, the PEP 658/714
    ``core-metadata`` key is left out (the ``.metadata`` files are still served), as older indexes do.
    """
    times = {Pin.parse(pin): moment for pin, moment in (upload_times or {}).items()}
    yanked_pins = {Pin.parse(pin): reason for pin, reason in (yanked or {}).items()}
    versions = sorted({dist.version for dist in files})
    rank = {version: index for index, version in enumerate(versions)}
    entries = []
    for dist in files:
        pin = Pin(name, dist.version)
        entry: dict[str, Any] = {
            "filename": dist.path.name,
            "url": files_url + quote(dist.path.name),
            "hashes": {"sha256": dist.sha256},
            "size": dist.path.stat().st_size,
            "upload-time": pep700_time(times.get(pin, UPLOAD_EPOCH + timedelta(days=rank[dist.version]))),
            "yanked": (yanked_pins[pin] or True) if pin in yanked_pins else False,
        }
        if dist.requires_python is not None:
            entry["requires-python"] = dist.requires_python
        metadata = dist.metadata
        if metadata is not None and announce_metadata:
            entry["core-metadata"] = {"sha256": hashlib.sha256(metadata.encode("utf-8")).hexdigest()}
        entries.append(entry)
    return {"meta": {"api-version": "1.1"}, "name": name, "versions": [str(v) for v in versions], "files": entries}


@contextmanager
def serve_pep691(
    root: Path,
    *,
    upload_times: Mapping[str, datetime] | None = None,
    yanked: Mapping[str, str] | None = None,
    announce_metadata: bool = True,
) -> Iterator[str]:
    """Serve the wheels in ``root`` as a PEP 691 JSON index on 127.0.0.1; yields ``http://127.0.0.1:PORT/simple/``.

    Pages are built per request, so wheels added (or ``upload_times``/``yanked`` entries changed) while the
    server runs are seen. Files are at ``/files/<name>`` with PEP 658 ``.metadata`` next to wheels. The server
    stops when the context exits.
    """
    server = _FakeIndexServer(root, upload_times, yanked, announce_metadata)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/simple/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _FakeIndexServer(ThreadingHTTPServer):
    """A loopback-only server on a free port that carries the index's settings for its handlers."""

    daemon_threads = True

    def __init__(
        self,
        root: Path,
        upload_times: Mapping[str, datetime] | None,
        yanked: Mapping[str, str] | None,
        announce_metadata: bool,
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Pep691Handler)
        self.root = root
        self.upload_times = upload_times
        self.yanked = yanked
        self.announce_metadata = announce_metadata


class _Pep691Handler(BaseHTTPRequestHandler):
    server: _FakeIndexServer

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a test's output should not fill with access logs."""

    def _respond(self, *, send_body: bool) -> None:
        parts = [unquote(part) for part in urlsplit(self.path).path.split("/") if part]
        host = f"http://127.0.0.1:{self.server.server_address[1]}"
        projects = scan_distributions(self.server.root)
        if parts == ["simple"]:
            listing = {"meta": {"api-version": "1.1"}, "projects": [{"name": name} for name in projects]}
            self._send(HTTPStatus.OK, PEP691_CONTENT_TYPE, json.dumps(listing).encode(), send_body)
        elif len(parts) == 2 and parts[0] == "simple" and canonicalize_name(parts[1]) in projects:
            name = canonicalize_name(parts[1])
            page = project_json(
                name,
                projects[name],
                files_url=f"{host}/files/",
                upload_times=self.server.upload_times,
                yanked=self.server.yanked,
                announce_metadata=self.server.announce_metadata,
            )
            self._send(HTTPStatus.OK, PEP691_CONTENT_TYPE, json.dumps(page).encode(), send_body)
        elif len(parts) == 2 and parts[0] == "files":
            self._send_file(parts[1], projects, send_body)
        else:
            self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found\n", send_body)

    def _send_file(self, filename: str, projects: Mapping[NormalizedName, list[DistFile]], send_body: bool) -> None:
        by_name = {dist.path.name: dist for files in projects.values() for dist in files}
        if filename in by_name:
            self._send(HTTPStatus.OK, "application/octet-stream", by_name[filename].path.read_bytes(), send_body)
            return
        base = filename.removesuffix(".metadata")
        metadata = by_name[base].metadata if base != filename and base in by_name else None
        if metadata is not None:
            self._send(HTTPStatus.OK, "text/plain; charset=utf-8", metadata.encode("utf-8"), send_body)
        else:
            self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found\n", send_body)

    def _send(self, status: HTTPStatus, content_type: str, body: bytes, send_body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)
