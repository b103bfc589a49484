"""A disk cache in front of a package index, so repeated runs and offline runs answer without the network."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from packaging.utils import InvalidName, NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from harness.index.interface import IndexUnreachableError, PackageIndex, PackageIndexError, Release, UnknownPackageError

CACHE_FORMAT = 1


@dataclass(frozen=True)
class CachedListing:
    fetched_at: float
    """Seconds since the epoch, by the cache's clock, when the listing was fetched."""
    releases: tuple[Release, ...]


class CachedIndex(PackageIndex):
    """Answers from a listing younger than ``ttl_seconds``; otherwise asks ``inner`` and stores its answer.

    When ``inner`` cannot be reached, an older listing is used and a warning is recorded in ``warnings`` (and
    passed to ``on_warning``). With ``offline`` set, ``inner`` is never asked. A package the index says does
    not exist is reported as such, whatever the cache holds.
    """

    def __init__(
        self,
        inner: PackageIndex,
        cache_dir: Path,
        *,
        ttl_seconds: float = 3600,
        offline: bool = False,
        clock: Callable[[], float] = time.time,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self.inner = inner
        self.cache_dir = cache_dir
        self.ttl_seconds = ttl_seconds
        self.offline = offline
        self.warnings: list[str] = []
        self._clock = clock
        self._on_warning = on_warning
        self._folder = cache_dir / _slug(inner.location)

    @property
    def location(self) -> str:
        return self.inner.location

    def releases(self, name: str) -> tuple[Release, ...]:
        path = self.listing_path(name)
        cached = _load_listing(path)
        now = self._clock()
        if cached is not None and self._is_fresh(cached, now):
            return cached.releases
        if self.offline:
            if cached is None:
                raise IndexUnreachableError(
                    f"no network and no cached listing for {name}: offline mode, and {self.location} was never "
                    "asked; run once without offline mode to fill the cache"
                )
            self._warn(
                f"offline: using the listing of {name} from {self.location} cached {_age(now - cached.fetched_at)}"
            )
            return cached.releases
        try:
            releases = self.inner.releases(name)
        except UnknownPackageError:
            raise
        except PackageIndexError as exc:
            if cached is None:
                raise IndexUnreachableError(f"no network and no cached listing for {name}: {exc}") from exc
            self._warn(f"{exc}; using the listing cached {_age(now - cached.fetched_at)}")
            return cached.releases
        self._store(path, _listing_to_json(self.location, name, CachedListing(now, releases)))
        return releases

    def project_urls(self, name: str, version: Version) -> Mapping[str, str]:
        """Cached for good once known, since a release's metadata never changes; ``{}`` when not obtainable."""
        path = self._folder / "project-urls" / _file_name(name) / f"{version}.json"
        with contextlib.suppress(OSError, ValueError):
            document = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(document, dict) and isinstance(document.get("urls"), dict):
                return {str(k): str(v) for k, v in document["urls"].items()}
        if self.offline:
            return {}
        try:
            urls = dict(self.inner.project_urls(name, version))
        except UnknownPackageError:
            return {}
        except PackageIndexError as exc:
            self._warn(f"no project URLs for {name} {version}: {exc}")
            return {}
        self._store(path, {"format": CACHE_FORMAT, "fetched_at": self._clock(), "urls": urls})
        return urls

    def warnings_seen(self) -> tuple[str, ...]:
        return tuple(self.warnings)

    def listing_path(self, name: str) -> Path:
        """Where the listing of ``name`` is stored (one JSON file per package and index)."""
        return self._folder / f"{_file_name(name)}.json"

    def _is_fresh(self, cached: CachedListing, now: float) -> bool:
        # A listing from the future (the clock was turned back) is not trusted as fresh.
        return 0 <= now - cached.fetched_at < self.ttl_seconds

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        if self._on_warning is not None:
            self._on_warning(message)

    def _store(self, path: Path, document: Mapping[str, Any]) -> None:
        """Write atomically, so a crash or a parallel run never leaves half a listing behind."""
        temporary: Path | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            temporary = Path(temporary_name)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(document, handle, indent=1, sort_keys=True)
            temporary.replace(path)
        except OSError as exc:
            # A read-only or full cache only costs speed; the answer itself is good.
            self._warn(f"could not write the index cache {path}: {exc.strerror or exc}")
            if temporary is not None:
                with contextlib.suppress(OSError):
                    temporary.unlink()


def _file_name(name: str) -> NormalizedName:
    """The name as a file name; anything that is not a valid project name (a path, say) is refused outright.

    versions.toml's names are checked where they are read; this guard keeps any other caller from building a
    path outside the cache from a name such as "/some/dir/pwned" or "../x".
    """
    try:
        return canonicalize_name(name, validate=True)
    except InvalidName:
        raise PackageIndexError(f"{name!r} is not a valid package name") from None


def _load_listing(path: Path) -> CachedListing | None:
    """The stored listing, or None when it is missing, unreadable or from another cache format."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("format") != CACHE_FORMAT:
            return None
        releases = tuple(_release_from_json(entry) for entry in document["releases"])
        return CachedListing(float(document["fetched_at"]), releases)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, InvalidVersion):
        return None


def _listing_to_json(location: str, name: str, listing: CachedListing) -> dict[str, Any]:
    return {
        "format": CACHE_FORMAT,
        "location": location,
        "name": canonicalize_name(name),
        "fetched_at": listing.fetched_at,
        "releases": [_release_to_json(release) for release in listing.releases],
    }


def _release_to_json(release: Release) -> dict[str, Any]:
    return {
        "version": str(release.version),
        "upload_time": release.upload_time.isoformat() if release.upload_time else None,
        "yanked": release.yanked,
        "requires_python": release.requires_python,
    }


def _release_from_json(entry: Mapping[str, Any]) -> Release:
    upload_time = entry["upload_time"]
    requires_python = entry["requires_python"]
    return Release(
        version=Version(entry["version"]),
        upload_time=datetime.fromisoformat(upload_time) if upload_time else None,
        yanked=bool(entry["yanked"]),
        requires_python=str(requires_python) if requires_python else None,
    )


def _slug(location: str) -> str:
    """A readable, collision-free folder name for an index location."""
    readable = re.sub(r"[^A-Za-z0-9.]+", "-", location.split("://", 1)[-1]).strip("-.")[:60]
    return f"{readable}-{hashlib.sha256(location.encode()).hexdigest()[:12]}"


def _age(seconds: float) -> str:
    if seconds < 0:
        return "at a time in the future"
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"
