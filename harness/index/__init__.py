"""Release discovery: which versions of a package exist on the configured indexes, and when each appeared."""

from harness.index.cache import CachedIndex
from harness.index.combined import CombinedIndex, index_for
from harness.index.interface import (
    IndexUnreachableError,
    PackageIndex,
    PackageIndexError,
    Release,
    UnknownPackageError,
    filter_releases,
    merge_releases,
)
from harness.index.local import FileSimpleIndex, FindLinksIndex
from harness.index.simple_api import PYPI_SIMPLE_URL, FindLinksPageIndex, SimpleApiIndex

__all__ = [
    "PYPI_SIMPLE_URL",
    "CachedIndex",
    "CombinedIndex",
    "FileSimpleIndex",
    "FindLinksIndex",
    "FindLinksPageIndex",
    "IndexUnreachableError",
    "PackageIndex",
    "PackageIndexError",
    "Release",
    "SimpleApiIndex",
    "UnknownPackageError",
    "filter_releases",
    "index_for",
    "merge_releases",
]
