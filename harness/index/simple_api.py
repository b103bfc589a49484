"""Release listings from an index over HTTP(S): the simple API (PEP 503/691/700) and find-links pages.

pypi-simple (and through it requests and pydantic) is imported inside the methods, so that importing the
harness stays cheap for commands that never ask an index anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from packaging.utils import canonicalize_name
from packaging.version import Version

from harness.index.interface import (
    IndexUnreachableError,
    PackageIndex,
    Release,
    UnknownPackageError,
    merge_releases,
    project_urls_from_metadata,
    version_from_filename,
)

if TYPE_CHECKING:
    from pypi_simple import DistributionPackage, PyPISimple

PYPI_SIMPLE_URL = "https://pypi.org/simple/"
_PYPI_HOSTS = frozenset({"pypi.org", "test.pypi.org"})


class SimpleApiIndex(PackageIndex):
    """A PEP 503/691 simple index such as https://pypi.org/simple/, asked for JSON first (for upload times)."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self._url = url.rstrip("/") + "/"
        self._timeout = timeout

    @property
    def location(self) -> str:
        return self._url

    def releases(self, name: str) -> tuple[Release, ...]:
        return releases_from_packages(self._packages(name), name)

    def project_urls(self, name: str, version: Version) -> Mapping[str, str]:
        """From PyPI's JSON API on pypi.org, else from the release's PEP 658 core metadata file."""
        parts = urlsplit(self._url)
        if parts.hostname not in _PYPI_HOSTS:
            return self._metadata_project_urls(name, version)
        base = f"{parts.scheme}://{parts.netloc}/pypi/{quote(canonicalize_name(name))}"
        # The release's own document is exact; some mirrors serve only the project's (newest release's) one,
        # whose URLs are nearly always the same.
        for url in (f"{base}/{quote(str(version))}/json", f"{base}/json"):
            urls = self._json_api_project_urls(url, name)
            if urls is not None:
                return urls
        return {}

    def _packages(self, name: str) -> list[DistributionPackage]:
        from pypi_simple import NoSuchProjectError  # noqa: PLC0415 (lazy: pypi-simple pulls in pydantic)

        with self._client(name) as client:
            try:
                return client.get_project_page(name, timeout=self._timeout).packages
            except NoSuchProjectError:
                raise UnknownPackageError(f"{name} is not a package on {self._url}") from None

    def _json_api_project_urls(self, url: str, name: str) -> dict[str, str] | None:
        """``info.project_urls`` of a PyPI JSON API document, or None when there is no such document."""
        with self._client(name) as client:
            response = client.s.get(url, timeout=self._timeout)
            if response.status_code == 404:
                return None
            response.raise_for_status()
            document = response.json()
        info = document.get("info") if isinstance(document, dict) else None
        return _urls_from_json_info(info) if isinstance(info, dict) else {}

    def _metadata_project_urls(self, name: str, version: Version) -> Mapping[str, str]:
        from pypi_simple import NoMetadataError  # noqa: PLC0415

        candidates = [
            package
            for package in self._packages(name)
            if version_from_filename(package.filename, name) == version and package.has_metadata is not False
        ]
        # A wheel's metadata is static; an sdist's may be generated, so wheels are asked first.
        candidates.sort(key=lambda package: not package.filename.endswith(".whl"))
        with self._client(name) as client:
            for package in candidates:
                try:
                    # Pages that do not announce the file (has_metadata None) give no digest to check against.
                    verify = bool(package.metadata_digests)
                    text = client.get_package_metadata(package, verify=verify, timeout=self._timeout)
                    return project_urls_from_metadata(text)
                except NoMetadataError:
                    continue
        return {}

    @contextmanager
    def _client(self, name: str) -> Iterator[PyPISimple]:
        """A client whose failures (network, HTTP status, unreadable pages) become one-line index errors."""
        import requests  # noqa: PLC0415
        from pypi_simple import ACCEPT_JSON_PREFERRED, PyPISimple  # noqa: PLC0415

        try:
            with PyPISimple(endpoint=self._url, accept=ACCEPT_JSON_PREFERRED) as client:
                yield client
        except requests.RequestException as exc:
            raise IndexUnreachableError(f"cannot reach {self._url} for {name}: {_brief(exc)}") from exc
        except ValueError as exc:
            # Digest mismatches, pydantic validation and JSON decoding errors are all ValueErrors.
            raise IndexUnreachableError(f"{self._url} gave an unreadable answer for {name}: {_brief(exc)}") from exc


class FindLinksPageIndex(PackageIndex):
    """A find-links location given as a URL: one HTML page linking to wheels and sdists of many packages."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self._url = url
        self._timeout = timeout

    @property
    def location(self) -> str:
        return self._url

    def releases(self, name: str) -> tuple[Release, ...]:
        import requests  # noqa: PLC0415
        from pypi_simple import ProjectPage  # noqa: PLC0415

        try:
            response = requests.get(self._url, timeout=self._timeout)
            response.raise_for_status()
            page = ProjectPage.from_html(name, response.content, base_url=response.url)
        except requests.RequestException as exc:
            raise IndexUnreachableError(f"cannot reach {self._url} for {name}: {_brief(exc)}") from exc
        except ValueError as exc:
            raise IndexUnreachableError(f"{self._url} gave an unreadable answer for {name}: {_brief(exc)}") from exc
        found = releases_from_packages(page.packages, name)
        if not found:
            raise UnknownPackageError(f"{name} is not a package on {self._url}")
        return found


def releases_from_packages(packages: Iterable[DistributionPackage], name: str) -> tuple[Release, ...]:
    """Summarise a project page's files into releases, skipping files whose names do not parse (eggs, typos)."""
    per_file = []
    for package in packages:
        version = version_from_filename(package.filename, name)
        if version is not None:
            uploaded = package.upload_time.astimezone(UTC) if package.upload_time is not None else None
            per_file.append(Release(version, uploaded, package.is_yanked, package.requires_python))
    return merge_releases(per_file)


def _urls_from_json_info(info: Mapping[str, object]) -> dict[str, str]:
    raw = info.get("project_urls")
    urls = {str(k): str(v) for k, v in raw.items() if v} if isinstance(raw, dict) else {}
    home_page = info.get("home_page")
    if isinstance(home_page, str) and home_page.strip():
        urls.setdefault("Homepage", home_page.strip())
    return urls


def _brief(exc: BaseException) -> str:
    """An exception as one short line: requests wraps the real cause in urllib3's connection-pool reprs."""
    cause: object = exc
    # requests.ConnectionError(MaxRetryError(reason=NewConnectionError(...))): the innermost reason says it.
    while isinstance(cause, BaseException) and cause.args and hasattr(cause.args[0], "reason"):
        cause = cause.args[0].reason
    text = " ".join(str(cause).split()) or type(exc).__name__
    # "HTTPConnection(host='x', port=1): Failed to establish a new connection: ..." -> keep what follows.
    text = re.sub(r"^\w+\(host=[^)]*\): ", "", text)
    return text if len(text) <= 200 else text[:197] + "..."
