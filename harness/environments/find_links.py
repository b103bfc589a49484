"""Local find-links folders handed to uv as flat pages that carry each file's sha256.

A PEP 751 lock names every file with its hash, so ``uv pip compile`` hashes each local file it locks, on every
resolve: for a folder that holds a 190 MB torch wheel that is about 0.8 s a resolve, most of a cached probe.
A flat page (the format pip and uv read for ``--find-links`` URLs) that links each file with a
``#sha256=`` fragment lets uv take the hash as given. The lock comes out the same (same ``file://`` URLs,
same hashes), so environment ids and records do not change.

The page is never stale: it is named by the folder's listing (names, sizes, modification times), and a file
is hashed again whenever its size or time changes. Anything that is not a readable local folder is passed
through untouched, so uv reports a missing folder itself.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from harness.files import read_json_object, write_atomically

DISTRIBUTION_SUFFIXES = (".whl", ".tar.gz", ".tar.bz2", ".tgz", ".zip")
_CHUNK = 1 << 20


def hashed_find_links(locations: Sequence[str], cache_dir: Path) -> tuple[str, ...]:
    """``locations`` with every local folder replaced by the ``file://`` URL of its hashed page."""
    return tuple(_page_for(location, cache_dir) for location in locations)


def _page_for(location: str, cache_dir: Path) -> str:
    folder = _local_folder(location)
    if folder is None:
        return location
    try:
        files = sorted(
            (entry.name, entry.stat())
            for entry in os.scandir(folder)
            if entry.name.endswith(DISTRIBUTION_SUFFIXES) and entry.is_file()
        )
    except OSError:
        return location
    listing = [(name, stat.st_size, stat.st_mtime_ns) for name, stat in files]
    name = hashlib.sha256(json.dumps([str(folder), listing]).encode()).hexdigest()[:20]
    page = cache_dir / f"{name}.html"
    if page.is_file():
        return page.as_uri()
    try:
        known_file = cache_dir / f"{hashlib.sha256(str(folder).encode()).hexdigest()[:20]}.hashes.json"
        hashes = _hashes(folder, listing, known_file)
    except OSError:
        return location  # a file vanished or cannot be read: let uv see the folder as it is
    links = "".join(
        f'<a href="{html.escape(_file_url(folder / file))}#sha256={hashes[file]}">{html.escape(file)}</a><br>\n'
        for file, _, _ in listing
    )
    write_atomically(page, f"<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n")
    return page.as_uri()


def _hashes(folder: Path, listing: list[tuple[str, int, int]], known_file: Path) -> dict[str, str]:
    """sha256 of each listed file, reusing the ones known for the same name, size and modification time."""
    known = read_json_object(known_file) or {}
    hashes: dict[str, str] = {}
    for file, size, mtime_ns in listing:
        entry = known.get(file)
        if isinstance(entry, list) and len(entry) == 3 and entry[:2] == [size, mtime_ns] and isinstance(entry[2], str):
            hashes[file] = entry[2]
        else:
            hashes[file] = _sha256(folder / file)
    write_atomically(known_file, json.dumps({file: [size, mtime_ns, hashes[file]] for file, size, mtime_ns in listing}))
    return hashes


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _file_url(path: Path) -> str:
    # Quoted as uv quotes a file it finds in a folder (a local version's "+" stays), so the lock's URLs match.
    return "file://" + quote(str(path), safe="/!$&'()*+,;=:@[]^|")


def _local_folder(location: str) -> Path | None:
    parts = urlsplit(location)
    if parts.scheme == "file":
        path = Path(unquote(parts.path))
    elif parts.scheme and len(parts.scheme) > 1:
        return None  # a web page of links: uv reads its hashes, if any, from there
    else:
        path = Path(location)
    return path.resolve() if path.is_dir() else None
