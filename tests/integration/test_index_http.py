"""The fake packages and indexes against the real tools: uv installs and resolves them offline, pypi-simple
reads the loopback PEP 691 server, and the harness's index classes list them with upload times and yanks."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from packaging.version import Version

from harness.index import (
    CachedIndex,
    FileSimpleIndex,
    IndexUnreachableError,
    Release,
    SimpleApiIndex,
    UnknownPackageError,
    filter_releases,
    index_for,
)
from harness.process import Completed, run
from harness.sources import PackageSources
from tests.fakeindex import (
    UPLOAD_EPOCH,
    FakePackage,
    fake_error_message,
    isolated_uv_env,
    make_fake_dependency,
    make_fake_package,
    serve_pep691,
    write_simple_index,
)

pytestmark = pytest.mark.integration

UV_TIMEOUT = 120.0


@pytest.fixture
def wheels(tmp_path: Path) -> Path:
    return tmp_path / "wheels"


@pytest.fixture
def fake(wheels: Path) -> FakePackage:
    """fakepkg 1.0..1.9 (1.4-1.6 raise), 1.5 needs fakedep>=2, 1.8 is unresolvable; fakedep 1.0 and 2.0."""
    package = make_fake_package(
        wheels,
        requires={"1.5": ["fakedep>=2"]},
        unresolvable={"1.8"},
        project_urls={"Source": "https://src.example/fakepkg"},
    )
    make_fake_dependency(wheels)
    return package


class Uv:
    """uv with no user configuration and its own cache, run through harness.process."""

    def __init__(self, tmp_path: Path) -> None:
        self.env = isolated_uv_env(tmp_path / "uv-cache")
        self.tmp_path = tmp_path

    def __call__(self, *args: str | Path) -> Completed:
        return run(["uv", *args], env=self.env, timeout=UV_TIMEOUT)

    def venv(self, name: str = "venv") -> Path:
        target = self.tmp_path / name
        created = self("venv", target, "--python", sys.executable)
        assert created.ok, created.output
        return target / "bin" / "python"

    def compile(self, requirements: str, *args: str | Path) -> Completed:
        source = self.tmp_path / "requirements.in"
        source.write_text(requirements)
        return self("pip", "compile", source, "--no-header", "--no-annotate", *args)


@pytest.fixture
def uv(tmp_path: Path) -> Uv:
    return Uv(tmp_path)


def pins(completed: Completed) -> list[str]:
    assert completed.ok, completed.output
    return [line.strip() for line in completed.stdout.splitlines() if "==" in line]


# --- uv installs and runs the hand-made wheels ----------------------------------------------------------------


def test_uv_installs_fake_wheels_offline_and_they_behave(uv: Uv, fake: FakePackage, wheels: Path) -> None:
    python = uv.venv()
    offline = ("--offline", "--no-index", "--find-links", wheels)
    for version, expected_code in (("1.3", 0), ("1.4", 1)):
        installed = uv("pip", "install", "--python", python, *offline, f"fakepkg=={version}")
        assert installed.ok, installed.output
        result = run([python, "-c", "import fakepkg; print(fakepkg.__version__, fakepkg.compute(2))"], timeout=60)
        assert result.returncode == expected_code, result.output
        if expected_code == 0:
            assert result.stdout.strip() == "1.3 [[0], [1]]"
        else:
            assert f"fakepkg.FakeError: {fake_error_message(2)}" in result.stderr
    conflict = uv("pip", "install", "--python", python, *offline, "fakepkg==1.5", "fakedep<2")
    assert not conflict.ok
    unresolvable = uv("pip", "install", "--python", python, *offline, "fakepkg==1.8")
    assert not unresolvable.ok
    assert "fakedep" in unresolvable.output


def test_hanging_and_crashing_versions(uv: Uv, wheels: Path) -> None:
    make_fake_package(wheels, versions=["2.0", "2.1"], bad=(), hang={"2.0"}, crash={"2.1"})
    for version in ("2.0", "2.1"):
        python = uv.venv(f"venv-{version}")
        installed = uv(
            "pip",
            "install",
            "--python",
            python,
            "--offline",
            "--no-index",
            "--find-links",
            wheels,
            f"fakepkg=={version}",
        )
        assert installed.ok, installed.output
        result = run([python, "-c", "import fakepkg; fakepkg.compute(1)"], timeout=2)
        if version == "2.0":
            assert result.timed_out
        else:
            assert not result.timed_out
            assert result.returncode == -9


def test_uv_installs_from_the_file_index(uv: Uv, fake: FakePackage, wheels: Path, tmp_path: Path) -> None:
    url = write_simple_index(wheels, tmp_path / "simple", yanked={"fakepkg==1.9": "broken"})
    assert pins(uv.compile("fakepkg\n", "--offline", "--index-url", url)) == ["fakepkg==1.7"]
    listed = FileSimpleIndex(url).releases("fakepkg")
    assert [str(r.version) for r in filter_releases(listed)] == [f"1.{i}" for i in range(9)]


# --- the loopback PEP 691 server ----------------------------------------------------------------------------


@pytest.fixture
def server(fake: FakePackage, wheels: Path) -> Iterator[str]:
    times = {"fakepkg==1.2": datetime(2023, 12, 25, 8, 30, tzinfo=UTC)}
    with serve_pep691(wheels, upload_times=times, yanked={"fakepkg==1.9": "broken build"}) as base_url:
        yield base_url


def test_simple_api_index_reads_upload_times_and_yanks(server: str) -> None:
    assert server.startswith("http://127.0.0.1:")
    index = SimpleApiIndex(server)
    releases = index.releases("FakePkg")
    assert [str(r.version) for r in releases] == [f"1.{i}" for i in range(10)]
    by_version = {str(r.version): r for r in releases}
    assert by_version["1.0"] == Release(Version("1.0"), UPLOAD_EPOCH, False, None)
    assert by_version["1.2"].upload_time == datetime(2023, 12, 25, 8, 30, tzinfo=UTC)
    assert by_version["1.7"].upload_time == UPLOAD_EPOCH + timedelta(days=7)
    assert [str(r.version) for r in releases if r.yanked] == ["1.9"]
    assert index.project_urls("fakepkg", Version("1.3")) == {"Source": "https://src.example/fakepkg"}
    assert index.project_urls("fakepkg", Version("7.0")) == {}
    with pytest.raises(UnknownPackageError, match=r"^nosuch is not a package on http://127\.0\.0\.1:\d+/simple/$"):
        index.releases("nosuch")


def test_uv_resolves_against_the_loopback_server(uv: Uv, server: str) -> None:
    # 1.9 is yanked and 1.8 needs a fakedep that does not exist, so the newest usable release is 1.7.
    assert pins(uv.compile("fakepkg\n", "--index-url", server)) == ["fakepkg==1.7"]
    # Time travel: 1.3 was uploaded on day 3 after the epoch, 1.4 on day 4.
    cutoff = (UPLOAD_EPOCH + timedelta(days=3, hours=12)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert pins(uv.compile("fakepkg\n", "--index-url", server, "--exclude-newer", cutoff)) == ["fakepkg==1.3"]
    assert pins(uv.compile("fakepkg==1.5\n", "--index-url", server)) == ["fakedep==2.0", "fakepkg==1.5"]
    assert not uv.compile("fakepkg==1.5\nfakedep<2\n", "--index-url", server).ok


def test_project_urls_from_metadata_the_page_does_not_announce(fake: FakePackage, wheels: Path) -> None:
    with serve_pep691(wheels, announce_metadata=False) as url:
        index = SimpleApiIndex(url)
        assert index.project_urls("fakepkg", Version("1.0")) == {"Source": "https://src.example/fakepkg"}
        assert index.project_urls("fakedep", Version("1.0")) == {}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_index_is_an_index_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/simple/"
    with pytest.raises(IndexUnreachableError, match=r"^cannot reach http://127\.0\.0\.1:\d+/simple/ for fakepkg: "):
        SimpleApiIndex(url, timeout=5).releases("fakepkg")


def test_cache_carries_a_listing_across_an_outage(fake: FakePackage, wheels: Path, tmp_path: Path) -> None:
    with serve_pep691(wheels) as url:
        clock = [1000.0]
        index = CachedIndex(SimpleApiIndex(url, timeout=5), tmp_path / "cache", ttl_seconds=60, clock=lambda: clock[0])
        online = index.releases("fakepkg")
    clock[0] += 3600
    assert index.releases("fakepkg") == online
    assert "cannot reach" in index.warnings[0]
    with pytest.raises(IndexUnreachableError, match="no network and no cached listing for fakedep"):
        index.releases("fakedep")


def test_index_for_combines_server_file_index_and_find_links(fake: FakePackage, wheels: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    make_fake_package(extra, versions=["3.0"], bad=())
    make_fake_dependency(extra, name="localonly", versions=["0.1"])
    file_index = write_simple_index(extra, tmp_path / "simple")
    with serve_pep691(wheels) as url:
        sources = PackageSources(index_url=url, extra_index_urls=(file_index,), find_links=(str(extra),))
        index = index_for(sources, cache_dir=tmp_path / "cache")
        releases = index.releases("fakepkg")
        assert [str(r.version) for r in releases][-2:] == ["1.9", "3.0"]
        assert releases[0].upload_time == UPLOAD_EPOCH
        assert releases[-1].upload_time is None
        assert [str(r.version) for r in index.releases("localonly")] == ["0.1"]
    offline = index_for(sources, cache_dir=tmp_path / "cache", offline=True)
    assert offline.releases("fakepkg") == releases
    assert offline.warnings_seen() == ()


def test_reads_a_file_index_laid_out_like_a_machine_mirror(tmp_path: Path) -> None:
    """A PEP 503 tree as /opt/pypi holds one: simple/<name>/index.html linking into a sibling files/ folder."""
    mirror = tmp_path / "pypi"
    make_fake_package(mirror / "files", name="einops", versions=["0.7.0", "0.8.0", "0.8.2"], requires_python=">=3.9")
    make_fake_dependency(mirror / "files", name="fakedep", versions=("1.0",))
    url = write_simple_index(mirror / "files", mirror / "simple", yanked={"einops==0.8.2": "broken wheel"})
    assert (
        'href="../../files/einops-0.8.0-py3-none-any.whl#sha256=' in (mirror / "simple/einops/index.html").read_text()
    )
    index = FileSimpleIndex(url)
    releases = index.releases("EinOps")
    assert releases == (
        Release(Version("0.7.0"), None, False, ">=3.9"),
        Release(Version("0.8.0"), None, False, ">=3.9"),
        Release(Version("0.8.2"), None, True, ">=3.9"),
    )
    assert [str(r.version) for r in filter_releases(releases)] == ["0.7.0", "0.8.0"]
    assert [str(r.version) for r in index.releases("fakedep")] == ["1.0"]
    with pytest.raises(UnknownPackageError, match="nosuch is not a package on file://"):
        index.releases("nosuch")
