"""The offline test fixtures themselves: hand-built wheels are valid, the fake package behaves as declared,
and the index pages describe the wheels truthfully."""

from __future__ import annotations

import csv
import email.message
import email.parser
import hashlib
import io
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from harness.index.local import parse_anchors
from harness.model.outcome import Outcome
from tests.fakeindex import (
    FAKE_ERROR_TEMPLATE,
    IMPOSSIBLE_REQUIREMENT,
    OTHER_ERROR_TEMPLATE,
    UPLOAD_EPOCH,
    Behaviour,
    build_wheel,
    fake_error_message,
    good_result,
    make_fake_dependency,
    make_fake_package,
    pep700_time,
    project_json,
    record_hash,
    scan_distributions,
    write_simple_index,
)


def metadata_of(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return email.parser.Parser().parsestr(archive.read(name).decode())


# --- build_wheel -------------------------------------------------------------------------------------------


def test_wheel_is_a_valid_zip_with_matching_record(tmp_path: Path) -> None:
    wheel = build_wheel(
        tmp_path,
        "Demo.Pkg",
        "1.0.0",
        module_source={"demo_pkg/__init__.py": "X = 1\n", "demo_pkg/sub/mod.py": "Y = 'é'\n"},
    )
    assert wheel.name == "demo_pkg-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        record = archive.read("demo_pkg-1.0.0.dist-info/RECORD").decode()
        rows = list(csv.reader(io.StringIO(record)))
        listed = {row[0] for row in rows}
        assert listed == set(names)
        for path, digest, size in rows:
            if path.endswith("RECORD"):
                assert (digest, size) == ("", "")
                continue
            data = archive.read(path)
            assert digest == f"sha256={record_hash(data)}"
            assert int(size) == len(data)
        wheel_file = archive.read("demo_pkg-1.0.0.dist-info/WHEEL").decode()
    assert "Root-Is-Purelib: true" in wheel_file
    assert "Tag: py3-none-any" in wheel_file
    assert names[-1].endswith("RECORD")


def test_record_hash_is_urlsafe_unpadded_sha256() -> None:
    # sha256(b"") is e3b0c442...; its urlsafe base64 form without "=" is the wheel spec's RECORD form.
    assert record_hash(b"") == "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"


def test_wheel_metadata_declares_requirements(tmp_path: Path) -> None:
    wheel = build_wheel(
        tmp_path,
        "demo",
        "2.0",
        module_source={"demo.py": ""},
        requires=["fakedep>=2", "other; python_version < '3'"],
        requires_python=">=3.8",
        project_urls={"Source": "https://src.example"},
    )
    metadata = metadata_of(wheel)
    assert metadata["Name"] == "demo"
    assert metadata["Version"] == "2.0"
    assert metadata["Requires-Python"] == ">=3.8"
    assert metadata.get_all("Requires-Dist") == ["fakedep>=2", "other; python_version < '3'"]
    assert metadata.get_all("Project-URL") == ["Source, https://src.example"]


def test_wheels_are_reproducible(tmp_path: Path) -> None:
    first = build_wheel(tmp_path / "a", "demo", "1.0", module_source={"demo.py": "x = 1\n"})
    second = build_wheel(tmp_path / "b", "demo", "1.0", module_source={"demo.py": "x = 1\n"})
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize("path", ["/abs.py", "../up.py", "demo-1.0.dist-info/extra"])
def test_wheel_rejects_paths_outside_the_package(tmp_path: Path, path: str) -> None:
    with pytest.raises(ValueError, match="cannot be a module path"):
        build_wheel(tmp_path, "demo", "1.0", module_source={path: ""})


def test_wheel_rejects_malformed_requirements(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Expected"):
        build_wheel(tmp_path, "demo", "1.0", module_source={"demo.py": ""}, requires=["fakedep >>= 2"])


# --- the fake package --------------------------------------------------------------------------------------


def load_module(wheel: Path, module: str) -> dict[str, object]:
    """Execute the wheel's module in a fresh namespace (no install, no subprocess)."""
    with zipfile.ZipFile(wheel) as archive:
        source = archive.read(f"{module}/__init__.py").decode()
    namespace: dict[str, object] = {"__name__": module}
    exec(compile(source, f"{module}/__init__.py", "exec"), namespace)
    return namespace


def test_default_fake_package_breaks_in_1_4_to_1_6(tmp_path: Path) -> None:
    fake = make_fake_package(tmp_path)
    assert [str(v) for v in fake.versions] == [f"1.{i}" for i in range(10)]
    bad = [str(v) for v in fake.versions if fake.behaviour(v) is Behaviour.RAISE]
    assert bad == ["1.4", "1.5", "1.6"]
    assert fake.first_bad() == Version("1.4")
    assert fake.error_type == "fakepkg.FakeError"
    for version in fake.versions:
        namespace = load_module(fake.wheel(version), "fakepkg")
        compute = namespace["compute"]
        assert callable(compute)
        if str(version) in bad:
            with pytest.raises(Exception, match="pattern 'n -> n 1'") as raised:
                compute(7)
            assert type(raised.value).__name__ == "FakeError"
            assert str(raised.value) == fake_error_message(7) == FAKE_ERROR_TEMPLATE.format(n=7)
        else:
            assert compute(3) == good_result(3) == [[0], [1], [2]]


def test_fake_package_behaviour_options(tmp_path: Path) -> None:
    fake = make_fake_package(
        tmp_path,
        name="Other-Pkg",
        versions=["0.1", "0.2", "0.3", "0.4", "0.5", "0.6"],
        bad={"0.2", "0.5"},
        hang={"0.3"},
        crash={"0.4"},
        other_error={"0.5"},
        unresolvable={"0.6"},
        requires={"0.2": ["fakedep>=2"]},
    )
    assert fake.name == canonicalize_name("other-pkg")
    assert fake.module == "other_pkg"
    assert {str(v): fake.behaviour(v) for v in fake.versions} == {
        "0.1": Behaviour.PASS,
        "0.2": Behaviour.RAISE,
        "0.3": Behaviour.HANG,
        "0.4": Behaviour.CRASH,
        "0.5": Behaviour.OTHER_ERROR,
        "0.6": Behaviour.UNRESOLVABLE,
    }
    assert [fake.expected_outcome(v) for v in fake.versions] == [
        Outcome.PASSED,
        Outcome.REPRODUCED,
        Outcome.TIMEOUT,
        Outcome.CRASHED,
        Outcome.DIFFERENT_ERROR,
        Outcome.UNRESOLVABLE,
    ]
    assert metadata_of(fake.wheel("0.2")).get_all("Requires-Dist") == ["fakedep>=2"]
    assert metadata_of(fake.wheel("0.6")).get_all("Requires-Dist") == [IMPOSSIBLE_REQUIREMENT]
    assert metadata_of(fake.wheel("0.1")).get_all("Requires-Dist") is None
    compute = load_module(fake.wheel("0.5"), "other_pkg")["compute"]
    assert callable(compute)
    with pytest.raises(TypeError, match="cannot handle n=4"):
        compute(4)
    assert OTHER_ERROR_TEMPLATE.format(n=4) == "compute() cannot handle n=4 in this release"
    for version, word in (("0.3", "time.sleep"), ("0.4", "SIGKILL")):
        assert load_module(fake.wheel(version), "other_pkg")["BEHAVIOUR"] in {"hang", "crash"}
        with zipfile.ZipFile(fake.wheel(version)) as archive:
            assert word in archive.read("other_pkg/__init__.py").decode()


def test_fake_dependency(tmp_path: Path) -> None:
    dep = make_fake_dependency(tmp_path)
    assert [str(v) for v in dep.versions] == ["1.0", "2.0"]
    assert load_module(dep.wheel("2.0"), "fakedep")["VERSION"] == "2.0"


# --- index pages -------------------------------------------------------------------------------------------


@pytest.fixture
def wheels(tmp_path: Path) -> Path:
    folder = tmp_path / "wheels"
    make_fake_package(folder, versions=["1.0", "1.1", "1.2"], requires_python=">=3.8")
    make_fake_dependency(folder)
    (folder / "junk.txt").write_text("")
    (folder / "broken-name.whl").write_bytes(b"")
    return folder


def test_scan_distributions_groups_by_project(wheels: Path) -> None:
    found = scan_distributions(wheels)
    assert sorted(found) == ["fakedep", "fakepkg"]
    assert [str(d.version) for d in found[canonicalize_name("fakepkg")]] == ["1.0", "1.1", "1.2"]
    assert found[canonicalize_name("fakepkg")][0].requires_python == ">=3.8"
    assert found[canonicalize_name("fakedep")][0].requires_python is None


def test_simple_index_links_resolve_to_the_wheels(wheels: Path, tmp_path: Path) -> None:
    url = write_simple_index(wheels, tmp_path / "index" / "simple", yanked={"fakepkg==1.1": "bad <build>"})
    assert url == (tmp_path / "index" / "simple").resolve().as_uri()
    root_links = parse_anchors((tmp_path / "index" / "simple" / "index.html").read_text())
    assert [a.href for a in root_links] == ["fakedep/", "fakepkg/"]
    page = tmp_path / "index" / "simple" / "fakepkg" / "index.html"
    anchors = parse_anchors(page.read_text())
    assert [a.text for a in anchors] == [f"fakepkg-1.{i}-py3-none-any.whl" for i in range(3)]
    for anchor in anchors:
        target = urlsplit(urljoin(page.as_uri(), anchor.href))
        path = Path(url2pathname(target.path))
        assert path.resolve() == (wheels / anchor.text).resolve()
        assert target.fragment == f"sha256={hashlib.sha256(path.read_bytes()).hexdigest()}"
        assert anchor.requires_python == ">=3.8"
        assert anchor.href.startswith("../../../wheels/")
    assert [a.attributes.get("data-yanked") for a in anchors] == [None, "bad <build>", None]
    assert [a.yanked for a in anchors] == [False, True, False]


def test_pep700_time_format() -> None:
    assert pep700_time(datetime(2024, 5, 6, 7, 8, 9, 10, tzinfo=UTC)) == "2024-05-06T07:08:09.000010Z"
    plus_two = timezone(timedelta(hours=2))
    assert pep700_time(datetime(2024, 5, 6, 7, 0, tzinfo=plus_two)) == "2024-05-06T05:00:00.000000Z"
    assert pep700_time(datetime(2024, 5, 6)) == "2024-05-06T00:00:00.000000Z"


def test_project_json_describes_files_times_and_yanks(wheels: Path) -> None:
    files = scan_distributions(wheels)[canonicalize_name("fakepkg")]
    page = project_json(
        canonicalize_name("fakepkg"),
        files,
        files_url="http://127.0.0.1:1/files/",
        upload_times={"FakePkg==1.2": datetime(2023, 6, 1, tzinfo=UTC)},
        yanked={"fakepkg==1.0": "", "fakepkg==1.1": "broken"},
    )
    assert page["meta"] == {"api-version": "1.1"}
    assert page["versions"] == ["1.0", "1.1", "1.2"]
    entries = page["files"]
    assert [e["upload-time"] for e in entries] == [
        pep700_time(UPLOAD_EPOCH),
        pep700_time(UPLOAD_EPOCH + timedelta(days=1)),
        "2023-06-01T00:00:00.000000Z",
    ]
    assert [e["yanked"] for e in entries] == [True, "broken", False]
    first = entries[0]
    assert first["url"] == "http://127.0.0.1:1/files/fakepkg-1.0-py3-none-any.whl"
    assert first["hashes"]["sha256"] == hashlib.sha256(files[0].path.read_bytes()).hexdigest()
    assert first["size"] == files[0].path.stat().st_size
    assert first["requires-python"] == ">=3.8"
    metadata = files[0].metadata
    assert metadata is not None
    assert first["core-metadata"] == {"sha256": hashlib.sha256(metadata.encode()).hexdigest()}
