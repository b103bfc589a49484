"""Finds the project on the configured index that provides a missing module: the I/O half of repair."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from harness.index.interface import PackageIndex, PackageIndexError, UnknownPackageError, filter_releases


class IndexDistributionFinder:
    """The first candidate name the index lists as a project with a usable release; answers are kept per run."""

    def __init__(self, index: Callable[[], PackageIndex], on_warning: Callable[[str], None] | None = None) -> None:
        """``index`` is called on the first question only: most runs never need a repair."""
        self._make_index = index
        self._index: PackageIndex | None = None
        self._known: dict[str, bool] = {}
        self._on_warning = on_warning

    def __call__(self, candidates: Sequence[str]) -> str | None:
        for name in candidates:
            if name not in self._known:
                answer = self._is_project(name)
                if answer is None:
                    return None
                self._known[name] = answer
            if self._known[name]:
                return name
        return None

    def _is_project(self, name: str) -> bool | None:
        if self._index is None:
            self._index = self._make_index()
        try:
            return bool(filter_releases(self._index.releases(name)))
        except UnknownPackageError:
            return False
        except PackageIndexError as exc:
            # An index that cannot answer is no reason to fail the probe: it stays unrepaired, and says so here.
            if self._on_warning is not None:
                self._on_warning(f"cannot ask the index about {name!r} to repair a missing module: {exc}")
            return None
