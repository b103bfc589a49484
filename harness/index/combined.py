"""All configured package sources seen as one index, and the factory that builds them from PackageSources."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from harness.errors import ConfigError
from harness.index.cache import CachedIndex
from harness.index.interface import PackageIndex, PackageIndexError, Release, UnknownPackageError, merge_releases
from harness.index.local import FileSimpleIndex, FindLinksIndex
from harness.index.simple_api import PYPI_SIMPLE_URL, FindLinksPageIndex, SimpleApiIndex
from harness.sources import PackageSources


class CombinedIndex(PackageIndex):
    """The union of several sources, as pip (and uv's ``unsafe-best-match``) sees every index at once.

    A package named in ``routes`` is looked up only on its own index, the way users pin torch to PyTorch's
    CPU index. A package some sources do not know is fine; one no source knows is an UnknownPackageError.
    Any other failure of a source is raised: a listing with a source silently missing would mislead a bisection.
    """

    def __init__(self, sources: Sequence[PackageIndex], *, routes: Mapping[str, PackageIndex] | None = None) -> None:
        self.sources = tuple(sources)
        self.routes: dict[NormalizedName, PackageIndex] = {
            canonicalize_name(name): index for name, index in (routes or {}).items()
        }

    @property
    def location(self) -> str:
        return " + ".join(source.location for source in self.sources) or "no package sources"

    def releases(self, name: str) -> tuple[Release, ...]:
        routed = self.routes.get(canonicalize_name(name))
        if routed is not None:
            return routed.releases(name)
        if not self.sources:
            raise UnknownPackageError(f"{name} cannot be looked up: no index and no find-links location is configured")
        found: list[Release] = []
        for source in self.sources:
            try:
                found.extend(source.releases(name))
            except UnknownPackageError:
                continue
        if not found:
            locations = [source.location for source in self.sources]
            where = locations[0] if len(locations) == 1 else "any of " + ", ".join(locations)
            raise UnknownPackageError(f"{name} is not a package on {where}")
        return merge_releases(found)

    def project_urls(self, name: str, version: Version) -> Mapping[str, str]:
        routed = self.routes.get(canonicalize_name(name))
        first_error: PackageIndexError | None = None
        for source in (routed,) if routed is not None else self.sources:
            try:
                urls = source.project_urls(name, version)
            except UnknownPackageError:
                continue
            except PackageIndexError as exc:
                first_error = first_error or exc
                continue
            if urls:
                return urls
        if first_error is not None:
            raise first_error
        return {}

    def warnings_seen(self) -> tuple[str, ...]:
        everything = (*self.sources, *self.routes.values())
        unique = {id(source): source for source in everything}.values()
        return tuple(warning for source in unique for warning in source.warnings_seen())


def index_for(
    sources: PackageSources,
    *,
    cache_dir: Path,
    ttl_seconds: float = 3600,
    offline: bool = False,
    on_warning: Callable[[str], None] | None = None,
) -> PackageIndex:
    """The index the harness should ask, matching what uv will install from under the same ``sources``.

    Remote sources are cached under ``cache_dir``; local folders and ``file://`` indexes are read directly,
    since reading them is as cheap as reading a cache.
    """
    built: dict[tuple[str, str], PackageIndex] = {}

    def cached(index: PackageIndex) -> PackageIndex:
        return CachedIndex(index, cache_dir, ttl_seconds=ttl_seconds, offline=offline, on_warning=on_warning)

    def index_source(url: str) -> PackageIndex:
        key = ("index", url)
        if key not in built:
            scheme = _scheme(url)
            if scheme in {"http", "https"}:
                built[key] = cached(SimpleApiIndex(url))
            elif scheme in {"file", ""}:
                built[key] = FileSimpleIndex(url)
            else:
                raise ConfigError(f"unsupported index URL {url!r}: use http(s)://, file:// or a folder path")
        return built[key]

    def find_links_source(location: str) -> PackageIndex:
        key = ("find-links", location)
        if key not in built:
            scheme = _scheme(location)
            if scheme in {"http", "https"}:
                built[key] = cached(FindLinksPageIndex(location))
            elif scheme in {"file", ""}:
                built[key] = FindLinksIndex(location)
            else:
                raise ConfigError(f"unsupported find-links location {location!r}: use http(s)://, file:// or a folder")
        return built[key]

    index_urls = [] if sources.no_index else [sources.index_url or PYPI_SIMPLE_URL, *sources.extra_index_urls]
    main = [index_source(url) for url in dict.fromkeys(index_urls)]
    main += [find_links_source(location) for location in dict.fromkeys(sources.find_links)]
    routes: dict[str, PackageIndex] = {name: index_source(url) for name, url in sources.package_indexes}
    return CombinedIndex(main, routes=routes)


def _scheme(location: str) -> str:
    scheme = urlsplit(location).scheme.lower()
    # A one-letter "scheme" is a Windows drive letter (C:\wheels), i.e. a plain path.
    return "" if len(scheme) == 1 else scheme
