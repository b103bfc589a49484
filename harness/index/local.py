"""Release listings from the local disk: a find-links folder of wheels and sdists, or a ``file://`` simple index."""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

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


def path_from_location(location: str | Path) -> Path:
    """A filesystem path from a plain path or a ``file://`` URL, as pip and uv accept both."""
    if isinstance(location, Path):
        return location
    parts = urlsplit(location)
    if parts.scheme == "file":
        return Path(url2pathname(unquote(parts.path)))
    return Path(location)


class FindLinksIndex(PackageIndex):
    """A folder of distribution files (pip's ``--find-links DIR``); files carry no upload times."""

    def __init__(self, folder: str | Path) -> None:
        self._folder = path_from_location(folder)

    @property
    def location(self) -> str:
        return str(self._folder)

    def releases(self, name: str) -> tuple[Release, ...]:
        found = merge_releases(Release(version, None, False, None) for version, _ in self._files(name))
        if not found:
            missing = "" if self._folder.is_dir() else " (the folder does not exist)"
            raise UnknownPackageError(f"{name} is not a package on {self._folder}{missing}")
        return found

    def project_urls(self, name: str, version: Version) -> Mapping[str, str]:
        for file_version, path in self._files(name):
            if file_version == version and path.suffix == ".whl":
                metadata = read_wheel_metadata(path)
                if metadata is not None:
                    return project_urls_from_metadata(metadata)
        return {}

    def _files(self, name: str) -> list[tuple[Version, Path]]:
        try:
            entries = sorted(entry.name for entry in self._folder.iterdir())
        except FileNotFoundError:
            # pip only warns about a missing find-links folder, so it is a source without packages, not an outage.
            return []
        except OSError as exc:
            raise IndexUnreachableError(f"cannot read find-links folder {self._folder}: {exc.strerror}") from None
        found = []
        for entry in entries:
            version = version_from_filename(entry, name)
            if version is not None:
                found.append((version, self._folder / entry))
        return found


class FileSimpleIndex(PackageIndex):
    """A PEP 503 index on disk (``file:///opt/pypi/simple``): ``<root>/<normalized-name>/index.html``."""

    def __init__(self, root: str | Path) -> None:
        self._root = path_from_location(root)

    @property
    def location(self) -> str:
        return self._root.as_uri() if self._root.is_absolute() else str(self._root)

    def releases(self, name: str) -> tuple[Release, ...]:
        found = merge_releases(
            Release(version, None, anchor.yanked, anchor.requires_python) for version, anchor, _ in self._files(name)
        )
        if not found:
            raise UnknownPackageError(f"{name} is not a package on {self.location}")
        return found

    def project_urls(self, name: str, version: Version) -> Mapping[str, str]:
        for file_version, _, path in self._files(name):
            if file_version == version and path is not None and path.suffix == ".whl":
                metadata = read_wheel_metadata(path)
                if metadata is not None:
                    return project_urls_from_metadata(metadata)
        return {}

    def _files(self, name: str) -> list[tuple[Version, Anchor, Path | None]]:
        """Each file of ``name`` on its project page, with its local path when the link points to disk."""
        page = self._root / canonicalize_name(name) / "index.html"
        try:
            text = page.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise IndexUnreachableError(f"cannot read {page}: {exc.strerror}") from None
        page_url = page.absolute().as_uri()
        found = []
        for anchor in parse_anchors(text):
            version = version_from_filename(anchor.filename, name)
            if version is None:
                continue
            target = urlsplit(urljoin(page_url, anchor.href))
            path = Path(url2pathname(unquote(target.path))) if target.scheme == "file" else None
            found.append((version, anchor, path))
        return found


@dataclass(frozen=True)
class Anchor:
    """One ``<a>`` of a PEP 503 page: where it points, its text, and its ``data-*`` attributes."""

    href: str
    text: str
    attributes: Mapping[str, str | None] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        """The file's name from the link's path (as installers read it), else from the link text."""
        path = urlsplit(self.href).path
        return unquote(path.rsplit("/", 1)[-1]) or self.text.strip()

    @property
    def yanked(self) -> bool:
        # PEP 592: the attribute's presence yanks the file; its value is only the reason, and may be empty.
        return "data-yanked" in self.attributes

    @property
    def requires_python(self) -> str | None:
        return self.attributes.get("data-requires-python") or None


class _AnchorParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[Anchor] = []
        self._open: tuple[str, dict[str, str | None]] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._close()
            attributes = dict(attrs)
            href = attributes.get("href")
            if href:
                self._open = (href, attributes)
                self._text = []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._close()

    def close(self) -> None:
        super().close()
        self._close()

    def _close(self) -> None:
        if self._open is not None:
            href, attributes = self._open
            self.anchors.append(Anchor(href, "".join(self._text), attributes))
            self._open = None


def parse_anchors(html: str) -> list[Anchor]:
    """Every link with an ``href`` on a page, in order; attribute values arrive HTML-unescaped."""
    parser = _AnchorParser()
    parser.feed(html)
    parser.close()
    return parser.anchors


def read_wheel_metadata(path: Path) -> str | None:
    """The core metadata (``*.dist-info/METADATA``) inside a wheel, or None when it cannot be read."""
    try:
        with zipfile.ZipFile(path) as wheel:
            for member in wheel.namelist():
                parts = member.split("/")
                if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA":
                    return wheel.read(member).decode("utf-8", errors="replace")
    except (OSError, zipfile.BadZipFile):
        return None
    return None
