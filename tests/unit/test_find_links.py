"""Local find-links folders become hashed flat pages: uv takes the hashes as given, and locks the same files."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from harness.environments.find_links import hashed_find_links
from harness.environments.uv import find_uv
from tests.fakeindex import make_fake_dependency, make_fake_package


def _page(url: str) -> str:
    assert url.startswith("file://"), url
    return Path(url.removeprefix("file://")).read_text(encoding="utf-8")


def test_each_distribution_is_linked_with_its_sha256(tmp_path: Path) -> None:
    folder = tmp_path / "wheels"
    folder.mkdir()
    (folder / "pkg-1.0+cpu-py3-none-any.whl").write_bytes(b"wheel one")
    (folder / "pkg-0.9.tar.gz").write_bytes(b"an sdist")
    (folder / "notes.txt").write_text("not a distribution")
    (folder / "sub.whl").mkdir()

    (url,) = hashed_find_links([str(folder)], tmp_path / "cache")

    page = _page(url)
    wheel_hash = hashlib.sha256(b"wheel one").hexdigest()
    # The "+" of a local version stays as it is, as uv writes it when it reads the folder itself.
    assert f'href="file://{folder}/pkg-1.0+cpu-py3-none-any.whl#sha256={wheel_hash}"' in page
    assert f"pkg-0.9.tar.gz#sha256={hashlib.sha256(b'an sdist').hexdigest()}" in page
    assert "notes.txt" not in page
    assert "sub.whl" not in page


def test_a_changed_file_gets_a_new_page_and_a_new_hash(tmp_path: Path) -> None:
    folder = tmp_path / "wheels"
    folder.mkdir()
    wheel = folder / "pkg-1.0-py3-none-any.whl"
    wheel.write_bytes(b"first")
    first = hashed_find_links([folder.as_uri()], tmp_path / "cache")
    assert hashed_find_links([folder.as_uri()], tmp_path / "cache") == first

    wheel.write_bytes(b"second, longer")
    os.utime(wheel, ns=(1, 1))
    second = hashed_find_links([folder.as_uri()], tmp_path / "cache")

    assert second != first
    assert hashlib.sha256(b"second, longer").hexdigest() in _page(second[0])
    assert hashlib.sha256(b"first").hexdigest() not in _page(second[0])


def test_known_hashes_are_reused_when_another_file_joins_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "wheels"
    folder.mkdir()
    big = folder / "big-1.0-py3-none-any.whl"
    big.write_bytes(b"big")
    hashed_find_links([str(folder)], tmp_path / "cache")
    # Same size and time, other bytes: only a stale cache would still show the old hash, which proves reuse.
    stat = big.stat()
    big.write_bytes(b"BIG")
    os.utime(big, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    (folder / "small-1.0-py3-none-any.whl").write_bytes(b"small")

    (url,) = hashed_find_links([str(folder)], tmp_path / "cache")

    assert hashlib.sha256(b"big").hexdigest() in _page(url)
    assert hashlib.sha256(b"small").hexdigest() in _page(url)


@pytest.mark.parametrize("location", ["https://example.org/links/", "relative/missing", "file:///no/such/folder"])
def test_anything_but_a_local_folder_passes_through(tmp_path: Path, location: str) -> None:
    assert hashed_find_links([location], tmp_path / "cache") == (location,)


def test_uv_locks_the_same_files_from_the_page_as_from_the_folder(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    make_fake_package(wheels, versions=("1.0", "1.1"))
    make_fake_dependency(wheels)
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "probe"\nversion = "0"\ndependencies = ["fakepkg==1.1", "fakedep"]\n', encoding="utf-8"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    environ |= {"UV_CACHE_DIR": str(tmp_path / "uv-cache"), "UV_NO_CONFIG": "1", "UV_OFFLINE": "1"}

    def lock(location: str, name: str) -> str:
        argv = [find_uv(), "pip", "compile", "pyproject.toml", "-o", f"pylock.{name}.toml", "--quiet", "--no-header"]
        argv += ["--no-index", "--find-links", location]
        subprocess.run(argv, cwd=project, env=environ, check=True)
        return (project / f"pylock.{name}.toml").read_text(encoding="utf-8")

    (page,) = hashed_find_links([str(wheels)], tmp_path / "cache")
    from_folder, from_page = lock(str(wheels), "folder"), lock(page, "page")

    assert "sha256" in from_folder
    assert from_page == from_folder
