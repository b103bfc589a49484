"""The package-index seam: what a release listing is, the interface every source implements, and its errors."""

from __future__ import annotations

import abc
import email.parser
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from harness.errors import PackageIndexError

__all__ = [
    "IndexUnreachableError",
    "PackageIndex",
    "PackageIndexError",
    "Release",
    "UnknownPackageError",
    "filter_releases",
    "merge_releases",
    "project_urls_from_metadata",
    "version_from_filename",
]


class UnknownPackageError(PackageIndexError):
    """The index answered, and it has no such package; a cached listing must not paper over this."""


class IndexUnreachableError(PackageIndexError):
    """The index could not be asked (no network, refused connection, server error, unreadable answer)."""


@dataclass(frozen=True)
class Release:
    """One version of a package as an index lists it, summarised over all of that version's files."""

    version: Version
    upload_time: datetime | None
    """The earliest upload time of any of the version's files; None when the index does not say (PEP 700)."""
    yanked: bool
    """True only when every file of the version is yanked (PEP 592), since one live file still installs."""
    requires_python: str | None


class PackageIndex(abc.ABC):
    """A source of release listings: a simple API over HTTP, a ``file://`` index, a find-links folder."""

    @property
    @abc.abstractmethod
    def location(self) -> str:
        """The URL or path this index reads; names the index in messages and keys its cache."""

    @abc.abstractmethod
    def releases(self, name: str) -> tuple[Release, ...]:
        """All releases of ``name``, ascending by version, one entry per version.

        Raises UnknownPackageError when the index has no such package and IndexUnreachableError (or another
        PackageIndexError) when it cannot answer.
        """

    def project_urls(self, name: str, version: Version) -> Mapping[str, str]:
        """The project URLs (label -> URL) the release declares; ``{}`` when the index cannot tell."""
        del name, version
        return {}

    def warnings_seen(self) -> tuple[str, ...]:
        """Problems worked around so far (a stale cached listing used, say), for the run's report."""
        return ()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location!r})"


def filter_releases(
    releases: Iterable[Release], *, include_prereleases: bool = False, include_yanked: bool = False
) -> tuple[Release, ...]:
    """Drop pre-releases (including dev releases) and yanked releases unless asked to keep them."""
    return tuple(
        release
        for release in releases
        if (include_prereleases or not release.version.is_prerelease) and (include_yanked or not release.yanked)
    )


def merge_releases(per_file: Iterable[Release]) -> tuple[Release, ...]:
    """Fold per-file (or per-index) entries into one release per version, ascending.

    A version is yanked only if all its entries are; its upload time is the earliest known one; its
    Requires-Python comes from a live entry when there is one, because that is the file an installer picks.
    """
    grouped: dict[Version, list[Release]] = {}
    for entry in per_file:
        grouped.setdefault(entry.version, []).append(entry)
    merged = []
    for version, entries in grouped.items():
        times = [entry.upload_time for entry in entries if entry.upload_time is not None]
        live = [entry for entry in entries if not entry.yanked]
        preferred = live or entries
        requires_python = next((e.requires_python for e in preferred if e.requires_python), None)
        merged.append(
            Release(
                version=version,
                upload_time=min(times) if times else None,
                yanked=not live,
                requires_python=requires_python,
            )
        )
    return tuple(sorted(merged, key=lambda release: release.version))


_SDIST_SUFFIXES = (".tar.gz", ".zip")
_LEGACY_SDIST_SUFFIXES = (".tar.bz2", ".tar.xz", ".tgz", ".tar")


def version_from_filename(filename: str, name: str) -> Version | None:
    """The version of a wheel or sdist file of package ``name``; None for other packages or unparsable names."""
    wanted: NormalizedName = canonicalize_name(name)
    try:
        if filename.endswith(".whl"):
            project, version, _, _ = parse_wheel_filename(filename)
        elif filename.endswith(_SDIST_SUFFIXES):
            project, version = parse_sdist_filename(filename)
        elif filename.endswith(_LEGACY_SDIST_SUFFIXES):
            # Old sdists (``.tar.bz2``, ``.tgz``) still sit on PyPI; packaging only parses the modern suffixes.
            stem = next(filename[: -len(s)] for s in _LEGACY_SDIST_SUFFIXES if filename.endswith(s))
            project, version = parse_sdist_filename(stem + ".tar.gz")
        else:
            return None
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return version if project == wanted else None


def project_urls_from_metadata(text: str) -> dict[str, str]:
    """The ``Project-URL`` entries (and a legacy ``Home-page``) of a core metadata file, label -> URL."""
    message = email.parser.HeaderParser().parsestr(text)
    urls: dict[str, str] = {}
    for entry in message.get_all("Project-URL") or []:
        label, sep, url = str(entry).partition(",")
        if sep and label.strip() and url.strip():
            urls[label.strip()] = url.strip()
    home_page = message.get("Home-page")
    if home_page and str(home_page).strip() and str(home_page).strip() != "UNKNOWN":
        urls.setdefault("Homepage", str(home_page).strip())
    return urls
