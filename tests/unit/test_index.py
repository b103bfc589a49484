"""Release discovery without the network: filtering and merging, local sources, the cache, combining, routing."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from packaging.version import Version

from harness.errors import ConfigError
from harness.index import (
    PYPI_SIMPLE_URL,
    CachedIndex,
    CombinedIndex,
    FileSimpleIndex,
    FindLinksIndex,
    FindLinksPageIndex,
    IndexUnreachableError,
    PackageIndex,
    PackageIndexError,
    Release,
    SimpleApiIndex,
    UnknownPackageError,
    filter_releases,
    index_for,
    merge_releases,
)
from harness.index.interface import project_urls_from_metadata, version_from_filename
from harness.index.local import parse_anchors, path_from_location
from harness.index.simple_api import releases_from_packages
from harness.sources import PackageSources
from tests.fakeindex import build_wheel, write_simple_index

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def rel(version: str, *, yanked: bool = False, day: int | None = None, python: str | None = None) -> Release:
    upload = T0 + timedelta(days=day) if day is not None else None
    return Release(Version(version), upload, yanked, python)


def versions(releases: tuple[Release, ...]) -> list[str]:
    return [str(release.version) for release in releases]


# --- pure helpers ------------------------------------------------------------------------------------------

LISTING = (rel("1.0"), rel("1.1rc1"), rel("1.1"), rel("1.2", yanked=True), rel("1.3.dev0"), rel("1.3"))


@pytest.mark.parametrize(
    ("prereleases", "yanked", "expected"),
    [
        (False, False, ["1.0", "1.1", "1.3"]),
        (True, False, ["1.0", "1.1rc1", "1.1", "1.3.dev0", "1.3"]),
        (False, True, ["1.0", "1.1", "1.2", "1.3"]),
        (True, True, ["1.0", "1.1rc1", "1.1", "1.2", "1.3.dev0", "1.3"]),
    ],
)
def test_filter_releases(prereleases: bool, yanked: bool, expected: list[str]) -> None:
    kept = filter_releases(LISTING, include_prereleases=prereleases, include_yanked=yanked)
    assert versions(kept) == expected


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([rel("1.0", yanked=True), rel("1.0")], rel("1.0")),
        ([rel("1.0", yanked=True), rel("1.0", yanked=True)], rel("1.0", yanked=True)),
        ([rel("1.0", day=3), rel("1.0", day=1), rel("1.0")], rel("1.0", day=1)),
        ([rel("1.0", yanked=True, python=">=3.12"), rel("1.0", python=">=3.8")], rel("1.0", python=">=3.8")),
        ([rel("1.0", yanked=True, python=">=3.12"), rel("1.0", yanked=True)], rel("1.0", yanked=True, python=">=3.12")),
        ([rel("1.0", day=2), rel("1.0.0", day=5)], rel("1.0", day=2)),
    ],
)
def test_merge_releases_summarises_files_of_one_version(entries: list[Release], expected: Release) -> None:
    assert merge_releases(entries) == (expected,)


def test_merge_releases_sorts_by_version_not_text() -> None:
    merged = merge_releases([rel("1.10"), rel("1.9"), rel("1.10rc1"), rel("0.9")])
    assert versions(merged) == ["0.9", "1.9", "1.10rc1", "1.10"]


@pytest.mark.parametrize(
    ("filename", "name", "expected"),
    [
        ("fakepkg-1.4-py3-none-any.whl", "fakepkg", "1.4"),
        ("x_transformers-1.42.21-py3-none-any.whl", "x-transformers", "1.42.21"),
        ("x-transformers-1.42.21.tar.gz", "X_Transformers", "1.42.21"),
        ("torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl", "torch", "2.13.0+cpu"),
        ("cmeel_octomap-1.10.0-5-py3-none-manylinux_2_28_x86_64.whl", "cmeel-octomap", "1.10.0"),
        ("einops-0.3.0.zip", "einops", "0.3.0"),
        ("oldpkg-0.1.tar.bz2", "oldpkg", "0.1"),
        ("oldpkg-0.2.tgz", "oldpkg", "0.2"),
        ("fakepkg-1.4-py3-none-any.whl", "fakedep", None),
        ("fakepkg_extra-1.0-py3-none-any.whl", "fakepkg", None),
        ("fakepkg-1.0-py2.7.egg", "fakepkg", None),
        ("fakepkg-notaversion-py3-none-any.whl", "fakepkg", None),
        ("README.txt", "fakepkg", None),
    ],
)
def test_version_from_filename(filename: str, name: str, expected: str | None) -> None:
    found = version_from_filename(filename, name)
    assert found == (Version(expected) if expected else None)


def test_project_urls_from_metadata() -> None:
    text = (
        "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nHome-page: https://home.example\n"
        "Project-URL: Source, https://src.example/demo\nProject-URL: Changelog,https://src.example/CHANGES\n"
        "Project-URL: broken entry without comma\n\nlong description\nProject-URL: Body, https://ignored\n"
    )
    assert project_urls_from_metadata(text) == {
        "Source": "https://src.example/demo",
        "Changelog": "https://src.example/CHANGES",
        "Homepage": "https://home.example",
    }


def test_releases_from_pep691_page() -> None:
    from pypi_simple import ProjectPage  # noqa: PLC0415 (pydantic is only needed here)

    def file(filename: str, **extra: object) -> dict[str, object]:
        return {"filename": filename, "url": f"https://files.example/{filename}", "hashes": {}, **extra}

    page = ProjectPage.from_json_data(
        {
            "meta": {"api-version": "1.1"},
            "name": "demo",
            "files": [
                file("demo-1.0.tar.gz", **{"upload-time": "2024-01-02T00:00:00Z"}),
                file("demo-1.0-py3-none-any.whl", **{"upload-time": "2024-01-01T12:00:00+02:00"}),
                file("demo-1.1-py3-none-any.whl", yanked="bad build", **{"requires-python": ">=3.9"}),
                file("demo-0.9-py2.7.egg"),
            ],
        }
    )
    assert releases_from_packages(page.packages, "demo") == (
        Release(Version("1.0"), datetime(2024, 1, 1, 10, tzinfo=UTC), False, None),
        Release(Version("1.1"), None, True, ">=3.9"),
    )
    assert releases_from_packages(page.packages, "demo")[0].upload_time.tzinfo is UTC  # type: ignore[union-attr]


# --- local sources -----------------------------------------------------------------------------------------


def wheel(folder: Path, name: str, version: str, **kwargs: object) -> Path:
    module = name.replace("-", "_")
    return build_wheel(folder, name, version, module_source={f"{module}/__init__.py": ""}, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def find_links(tmp_path: Path) -> Path:
    folder = tmp_path / "wheels"
    wheel(folder, "fakepkg", "1.0", project_urls={"Source": "https://src.example/fakepkg"})
    wheel(folder, "fakepkg", "1.1")
    wheel(folder, "fakedep", "2.0")
    (folder / "fakepkg-1.1.tar.gz").write_bytes(b"")
    (folder / "fakepkg-1.2.zip").write_bytes(b"")
    (folder / "notes.txt").write_text("not a distribution")
    (folder / "fakepkg_plugin-9.0-py3-none-any.whl").write_bytes(b"")
    return folder


@pytest.mark.parametrize("as_url", [False, True])
def test_find_links_folder_lists_wheels_and_sdists(find_links: Path, as_url: bool) -> None:
    index = FindLinksIndex(find_links.as_uri() if as_url else find_links)
    assert index.releases("FakePkg") == (rel("1.0"), rel("1.1"), rel("1.2"))
    assert index.releases("fakedep") == (rel("2.0"),)
    assert index.location == str(find_links)


def test_find_links_project_urls_come_from_the_wheel(find_links: Path) -> None:
    index = FindLinksIndex(find_links)
    assert index.project_urls("fakepkg", Version("1.0")) == {"Source": "https://src.example/fakepkg"}
    assert index.project_urls("fakepkg", Version("1.2")) == {}  # only an (empty) sdist


def test_find_links_unknown_package(find_links: Path, tmp_path: Path) -> None:
    with pytest.raises(UnknownPackageError, match=r"^nosuch is not a package on .*wheels$"):
        FindLinksIndex(find_links).releases("nosuch")
    with pytest.raises(UnknownPackageError, match=r"the folder does not exist"):
        FindLinksIndex(tmp_path / "missing").releases("fakepkg")


PAGE = """<!DOCTYPE html><html><body>
<a href="../../files/demo-1.0-py3-none-any.whl#sha256=00">demo-1.0-py3-none-any.whl</a>
<a href="../../files/demo-1.1-py3-none-any.whl" data-yanked="">demo-1.1-py3-none-any.whl</a>
<a href="../../files/demo-1.1.tar.gz" data-yanked="sdist broken">demo-1.1.tar.gz</a>
<a href="../../files/demo-1.2-py3-none-any.whl" data-yanked data-requires-python="&gt;=3.10">demo-1.2 wheel</a>
<a href="https://elsewhere.example/demo-1.3.tar.gz" data-requires-python="&gt;=3.8,&lt;4">demo-1.3.tar.gz</a>
<a href="../../files/demo_extras-5.0-py3-none-any.whl">demo_extras-5.0-py3-none-any.whl</a>
<a>no href</a>
</body></html>
"""


@pytest.fixture
def file_index(tmp_path: Path) -> Path:
    root = tmp_path / "simple"
    (root / "demo").mkdir(parents=True)
    (root / "demo" / "index.html").write_text(PAGE)
    return root


def test_file_index_reads_anchors_and_honours_data_yanked(file_index: Path) -> None:
    index = FileSimpleIndex(file_index.as_uri())
    assert index.releases("Demo") == (
        rel("1.0"),
        rel("1.1", yanked=True),
        rel("1.2", yanked=True, python=">=3.10"),
        rel("1.3", python=">=3.8,<4"),
    )
    assert index.location == file_index.as_uri()


def test_file_index_unknown_package(file_index: Path) -> None:
    with pytest.raises(UnknownPackageError, match=r"^nosuch is not a package on file://"):
        FileSimpleIndex(file_index).releases("nosuch")


def test_file_index_written_by_the_fixture_round_trips(find_links: Path, tmp_path: Path) -> None:
    url = write_simple_index(find_links, tmp_path / "index", yanked={"fakepkg==1.1": "oops"})
    index = FileSimpleIndex(url)
    assert index.releases("fakepkg") == (rel("1.0"), rel("1.1", yanked=True), rel("1.2"))
    assert index.project_urls("fakepkg", Version("1.0")) == {"Source": "https://src.example/fakepkg"}


def test_parse_anchors_keeps_attributes_unescaped() -> None:
    anchors = parse_anchors('<a href="a%2Bb-1.0.tar.gz#x" data-yanked data-requires-python="&gt;=3">t</a><a>x</a>')
    assert len(anchors) == 1
    assert anchors[0].filename == "a+b-1.0.tar.gz"
    assert anchors[0].yanked
    assert anchors[0].requires_python == ">=3"


@pytest.mark.parametrize(
    ("location", "expected"),
    [("/opt/wheels", "/opt/wheels"), ("file:///opt/pypi/simple", "/opt/pypi/simple"), ("file:///a%20b", "/a b")],
)
def test_path_from_location(location: str, expected: str) -> None:
    assert path_from_location(location) == Path(expected)


# --- the cache ---------------------------------------------------------------------------------------------


class ScriptedIndex(PackageIndex):
    """An index whose answers (or failures) the test sets, counting how often it is asked."""

    def __init__(self, location: str = "https://index.example/simple/") -> None:
        self._location = location
        self.listings: dict[str, tuple[Release, ...]] = {}
        self.urls: dict[str, dict[str, str]] = {}
        self.failure: PackageIndexError | None = None
        self.calls: list[str] = []

    @property
    def location(self) -> str:
        return self._location

    def releases(self, name: str) -> tuple[Release, ...]:
        self.calls.append(name)
        if self.failure is not None:
            raise self.failure
        if name not in self.listings:
            raise UnknownPackageError(f"{name} is not a package on {self.location}")
        return self.listings[name]

    def project_urls(self, name: str, version: Version) -> Mapping[str, str]:
        self.calls.append(f"urls:{name}")
        if self.failure is not None:
            raise self.failure
        return self.urls.get(name, {})


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


OLD = (rel("1.0", day=0, python=">=3.8"), rel("1.1", yanked=True, day=1))
NEW = (*OLD, rel("1.2", day=5))
DOWN = IndexUnreachableError("cannot reach https://index.example/simple/ for demo: connection refused")


def cached(tmp_path: Path, inner: ScriptedIndex, clock: Clock, *, offline: bool = False) -> CachedIndex:
    return CachedIndex(inner, tmp_path / "cache", ttl_seconds=3600, offline=offline, clock=clock)


def test_fresh_cache_answers_without_asking(tmp_path: Path) -> None:
    inner, clock = ScriptedIndex(), Clock()
    inner.listings["demo"] = OLD
    assert cached(tmp_path, inner, clock).releases("demo") == OLD
    inner.listings["demo"] = NEW
    clock.now += 3599
    assert cached(tmp_path, inner, clock).releases("Demo") == OLD  # another instance, same files
    assert inner.calls == ["demo"]


def test_stale_cache_is_refreshed(tmp_path: Path) -> None:
    inner, clock = ScriptedIndex(), Clock()
    inner.listings["demo"] = OLD
    index = cached(tmp_path, inner, clock)
    index.releases("demo")
    inner.listings["demo"] = NEW
    clock.now += 3600
    assert index.releases("demo") == NEW
    assert index.releases("demo") == NEW
    assert inner.calls == ["demo", "demo"]
    assert index.warnings == []


def test_stale_cache_is_used_with_a_warning_when_the_index_is_down(tmp_path: Path) -> None:
    inner, clock = ScriptedIndex(), Clock()
    inner.listings["demo"] = OLD
    seen: list[str] = []
    index = CachedIndex(inner, tmp_path / "cache", ttl_seconds=60, clock=clock, on_warning=seen.append)
    index.releases("demo")
    inner.failure = DOWN
    clock.now += 7200
    assert index.releases("demo") == OLD
    assert seen == index.warnings
    assert len(seen) == 1
    assert "connection refused" in seen[0]
    assert "cached 2 h ago" in seen[0]
    assert index.warnings_seen() == tuple(seen)


def test_neither_network_nor_cache_is_one_clear_error(tmp_path: Path) -> None:
    inner, clock = ScriptedIndex(), Clock()
    inner.failure = DOWN
    with pytest.raises(IndexUnreachableError) as raised:
        cached(tmp_path, inner, clock).releases("demo")
    message = str(raised.value)
    assert message.startswith("no network and no cached listing for demo: cannot reach")
    assert "\n" not in message


def test_offline_uses_any_cached_listing_and_never_asks(tmp_path: Path) -> None:
    inner, clock = ScriptedIndex(), Clock()
    inner.listings["demo"] = OLD
    cached(tmp_path, inner, clock).releases("demo")
    clock.now += 10 * 86400
    offline = cached(tmp_path, inner, clock, offline=True)
    assert offline.releases("demo") == OLD
    assert inner.calls == ["demo"]
    assert "offline" in offline.warnings[0]
    assert "10 days ago" in offline.warnings[0]
    with pytest.raises(IndexUnreachableError, match=r"^no network and no cached listing for other: offline mode"):
        offline.releases("other")
    assert inner.calls == ["demo"]


def test_unknown_package_is_not_hidden_by_a_stale_listing(tmp_path: Path) -> None:
    inner, clock = ScriptedIndex(), Clock()
    inner.listings["demo"] = OLD
    index = cached(tmp_path, inner, clock)
    index.releases("demo")
    del inner.listings["demo"]
    clock.now += 7200
    with pytest.raises(UnknownPackageError):
        index.releases("demo")


@pytest.mark.parametrize("shift", [-10.0, -100000.0])
def test_a_listing_from_the_future_is_not_fresh(tmp_path: Path, shift: float) -> None:
    inner, clock = ScriptedIndex(), Clock()
    inner.listings["demo"] = OLD
    index = cached(tmp_path, inner, clock)
    index.releases("demo")
    clock.now += shift
    index.releases("demo")
    assert inner.calls == ["demo", "demo"]


@pytest.mark.parametrize("content", ["", "{", '{"format": 99}', '{"format": 1, "fetched_at": 1, "releases": [{}]}'])
def test_unreadable_cache_files_are_refetched(tmp_path: Path, content: str) -> None:
    inner, clock = ScriptedIndex(), Clock()
    inner.listings["demo"] = OLD
    index = cached(tmp_path, inner, clock)
    path = index.listing_path("demo")
    path.parent.mkdir(parents=True)
    path.write_text(content)
    assert index.releases("demo") == OLD
    assert inner.calls == ["demo"]


def test_cache_files_are_json_with_fetch_time_and_no_leftovers(tmp_path: Path) -> None:
    inner, clock = ScriptedIndex(), Clock()
    inner.listings["demo"] = OLD
    index = cached(tmp_path, inner, clock)
    index.releases("demo")
    document = json.loads(index.listing_path("demo").read_text())
    assert document["fetched_at"] == clock.now
    assert document["location"] == inner.location
    assert [entry["version"] for entry in document["releases"]] == ["1.0", "1.1"]
    assert [p.name for p in index.listing_path("demo").parent.iterdir()] == ["demo.json"]


def test_each_index_has_its_own_cache(tmp_path: Path) -> None:
    clock = Clock()
    first, second = ScriptedIndex("https://a.example/simple/"), ScriptedIndex("https://b.example/simple/")
    first.listings["demo"], second.listings["demo"] = OLD, NEW
    assert cached(tmp_path, first, clock).releases("demo") == OLD
    assert cached(tmp_path, second, clock).releases("demo") == NEW


def test_unwritable_cache_still_answers(tmp_path: Path) -> None:
    inner, clock = ScriptedIndex(), Clock()
    inner.listings["demo"] = OLD
    (tmp_path / "cache").write_text("a file where the cache folder should be")
    index = cached(tmp_path, inner, clock)
    assert index.releases("demo") == OLD
    assert "could not write the index cache" in index.warnings[0]


def test_project_urls_are_cached_for_good(tmp_path: Path) -> None:
    inner, clock = ScriptedIndex(), Clock()
    inner.urls["demo"] = {"Source": "https://src.example"}
    index = cached(tmp_path, inner, clock)
    assert index.project_urls("demo", Version("1.0")) == {"Source": "https://src.example"}
    clock.now += 10**9
    inner.failure = DOWN
    assert cached(tmp_path, inner, clock, offline=True).project_urls("demo", Version("1.0")) == {
        "Source": "https://src.example"
    }
    assert index.project_urls("demo", Version("1.0")) == {"Source": "https://src.example"}
    assert index.project_urls("demo", Version("2.0")) == {}
    assert inner.calls == ["urls:demo", "urls:demo"]
    assert "no project URLs for demo 2.0" in index.warnings[0]


# --- combining sources -------------------------------------------------------------------------------------


def scripted(location: str, **listings: tuple[Release, ...]) -> ScriptedIndex:
    index = ScriptedIndex(location)
    index.listings.update(listings)
    return index


def test_combined_is_the_union_of_its_sources() -> None:
    first = scripted("A", demo=(rel("1.0", day=3), rel("1.1", yanked=True)))
    second = scripted("B", demo=(rel("1.0", day=1), rel("1.1"), rel("2.0")))
    third = scripted("C")
    combined = CombinedIndex([first, second, third])
    assert combined.releases("demo") == (rel("1.0", day=1), rel("1.1"), rel("2.0"))
    assert combined.location == "A + B + C"


@pytest.mark.parametrize(
    ("count", "message"),
    [(1, r"^demo is not a package on A$"), (3, r"^demo is not a package on any of A, B, C$")],
)
def test_combined_unknown_to_all_sources(count: int, message: str) -> None:
    combined = CombinedIndex([scripted(name) for name in "ABC"[:count]])
    with pytest.raises(UnknownPackageError, match=message):
        combined.releases("demo")


def test_combined_without_sources_says_so() -> None:
    with pytest.raises(UnknownPackageError, match="no index and no find-links"):
        CombinedIndex([]).releases("demo")


def test_combined_raises_when_a_source_cannot_answer() -> None:
    down = scripted("B")
    down.failure = DOWN
    with pytest.raises(IndexUnreachableError):
        CombinedIndex([scripted("A", demo=OLD), down]).releases("demo")


def test_routed_package_is_looked_up_only_on_its_own_index() -> None:
    main = scripted("main", torch=(rel("2.5.0"),), demo=OLD)
    pytorch = scripted("pytorch", torch=(rel("2.5.0+cpu"),))
    combined = CombinedIndex([main], routes={"Torch": pytorch})
    assert versions(combined.releases("torch")) == ["2.5.0+cpu"]
    assert combined.releases("demo") == OLD
    assert main.calls == ["demo"]
    assert pytorch.calls == ["torch"]
    with pytest.raises(UnknownPackageError, match="on pytorch"):
        CombinedIndex([main], routes={"demo": pytorch}).releases("demo")


def test_combined_project_urls_take_the_first_answer() -> None:
    down, empty, full = scripted("A"), scripted("B"), scripted("C")
    down.failure = DOWN
    full.urls["demo"] = {"Source": "https://src.example"}
    assert CombinedIndex([down, empty, full]).project_urls("demo", Version("1")) == {"Source": "https://src.example"}
    with pytest.raises(IndexUnreachableError):
        CombinedIndex([down, empty]).project_urls("demo", Version("1"))
    assert CombinedIndex([empty]).project_urls("demo", Version("1")) == {}


# --- building the sources from PackageSources ---------------------------------------------------------------


def describe(index: PackageIndex) -> tuple[str, str]:
    inner = index.inner if isinstance(index, CachedIndex) else index
    wrapped = "cached " if isinstance(index, CachedIndex) else ""
    return (wrapped + type(inner).__name__, index.location)


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        (PackageSources(), [("cached SimpleApiIndex", PYPI_SIMPLE_URL)]),
        (PackageSources(no_index=True), []),
        (
            PackageSources(
                index_url="https://mirror.example/simple",
                extra_index_urls=("file:///opt/pypi/simple", "/srv/simple", "https://mirror.example/simple"),
                find_links=("/opt/wheels", "file:///srv/wheels", "https://host.example/links.html"),
            ),
            [
                ("cached SimpleApiIndex", "https://mirror.example/simple/"),
                ("FileSimpleIndex", "file:///opt/pypi/simple"),
                ("FileSimpleIndex", "file:///srv/simple"),
                ("FindLinksIndex", "/opt/wheels"),
                ("FindLinksIndex", "/srv/wheels"),
                ("cached FindLinksPageIndex", "https://host.example/links.html"),
            ],
        ),
        (
            PackageSources(no_index=True, find_links=("/opt/wheels",), extra_index_urls=("https://x.example/s",)),
            [("FindLinksIndex", "/opt/wheels")],
        ),
    ],
)
def test_index_for_builds_the_configured_sources(
    tmp_path: Path, sources: PackageSources, expected: list[tuple[str, str]]
) -> None:
    index = index_for(sources, cache_dir=tmp_path)
    assert isinstance(index, CombinedIndex)
    assert [describe(source) for source in index.sources] == expected


def test_index_for_routes_pinned_packages_and_passes_cache_settings(tmp_path: Path) -> None:
    from packaging.utils import canonicalize_name  # noqa: PLC0415

    sources = PackageSources(
        package_indexes=((canonicalize_name("torch"), "https://download.pytorch.org/whl/cpu"),),
    )
    index = index_for(sources, cache_dir=tmp_path / "c", ttl_seconds=5, offline=True)
    assert isinstance(index, CombinedIndex)
    routed = index.routes[canonicalize_name("torch")]
    assert describe(routed) == ("cached SimpleApiIndex", "https://download.pytorch.org/whl/cpu/")
    assert isinstance(routed, CachedIndex)
    assert (routed.cache_dir, routed.ttl_seconds, routed.offline) == (tmp_path / "c", 5, True)
    with pytest.raises(IndexUnreachableError, match="no network and no cached listing for torch"):
        index.releases("torch")


def test_index_for_rejects_unknown_schemes(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ftp://"):
        index_for(PackageSources(index_url="ftp://mirror.example/simple"), cache_dir=tmp_path)
    with pytest.raises(ConfigError, match="find-links"):
        index_for(PackageSources(find_links=("s3://bucket/wheels",)), cache_dir=tmp_path)


def test_remote_indexes_are_not_asked_when_constructed() -> None:
    # Building the objects must not touch the network (nor import pypi-simple's heavy dependencies).
    assert SimpleApiIndex("https://x.example/simple").location == "https://x.example/simple/"
    assert FindLinksPageIndex("https://x.example/links").location == "https://x.example/links"


def test_release_times_compare_across_timezones() -> None:
    east = timezone(timedelta(hours=2))
    merged = merge_releases(
        [rel("1.0", day=0), Release(Version("1.0"), T0.astimezone(east) - timedelta(hours=1), False, None)]
    )
    assert merged[0].upload_time == T0 - timedelta(hours=1)
