"""The PEP 751 reader (packaging.pylock underneath) on a lock uv wrote, and how it refuses what is not PEP 751."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from harness.environments.uv import _read_lock
from harness.errors import ConfigError
from harness.pinsources.interface import Location, PinFormat, PinnedEntry, SkippedEntry, SkipReason
from harness.pinsources.policy import parse_environment_pins, pins_from_lock
from harness.pinsources.pylock import load_pylock, parse_pylock

# Written by `uv pip compile pyproject.toml -o pylock.toml --no-header --offline --no-index --find-links ../wheels`
# (uv 0.13.9) for a probe project depending on two local wheels and a source tree, as the harness's probes do.
UV_PYLOCK = """\
lock-version = "1.0"
created-by = "uv"
requires-python = ">=3.11"

[[packages]]
name = "fakepkg"
version = "1.4"
wheels = [{ url = "file:///tmp/pyl-a/wheels/fakepkg-1.4-py3-none-any.whl", hashes = { sha256 = "6ef42ad96af2b9fe2838b993e366cbf147e6bc760270e8d7b58b317a01df0719" } }]

[[packages]]
name = "other-dep"
version = "2.0"
wheels = [{ url = "file:///tmp/pyl-a/wheels/other_dep-2.0-py3-none-any.whl", hashes = { sha256 = "30ab49077be77cc0f09b3961bd218f9cd10fa22f33ae51f7feb806edbb36d63a" } }]

[[packages]]
name = "srcpkg"
directory = { path = "/tmp/pyl-a/src" }
"""  # noqa: E501


def test_a_lock_written_by_uv_gives_its_entries() -> None:
    entries = parse_pylock(UV_PYLOCK, "pylock.toml")
    fakepkg, other, source_tree = entries
    assert isinstance(fakepkg, PinnedEntry)
    assert (str(fakepkg.pin), fakepkg.location, fakepkg.direct_source) == (
        "fakepkg==1.4",
        Location("pylock.toml", field="packages", index=0),
        None,
    )
    assert isinstance(other, PinnedEntry)
    assert str(other.pin) == "other-dep==2.0"
    assert source_tree == SkippedEntry(
        SkipReason.UNPINNED, Location("pylock.toml", field="packages", index=2), "srcpkg", canonicalize_name("srcpkg"),
        direct_source="directory",
    )  # fmt: skip


def test_the_gate_skips_the_source_tree_that_the_culprit_refuses() -> None:
    assert [str(pin) for pin in pins_from_lock(parse_pylock(UV_PYLOCK, "pylock.toml"))] == [
        "fakepkg==1.4",
        "other-dep==2.0",
    ]
    with pytest.raises(ConfigError, match=r"pylock\.toml: packages\[3\]: srcpkg comes from a directory source"):
        parse_environment_pins(UV_PYLOCK, PinFormat.PYLOCK, source="pylock.toml")


def test_the_uv_provider_reads_name_version_and_file_of_each_package(tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text(UV_PYLOCK, encoding="utf-8")
    assert _read_lock(lock) == [
        ("fakepkg", "1.4", "file:///tmp/pyl-a/wheels/fakepkg-1.4-py3-none-any.whl"),
        ("other-dep", "2.0", "file:///tmp/pyl-a/wheels/other_dep-2.0-py3-none-any.whl"),
        ("srcpkg", "", "directory:/tmp/pyl-a/src"),
    ]


def test_an_sdist_stands_for_its_package_when_there_is_no_wheel(tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text(
        'lock-version = "1.0"\ncreated-by = "t"\n[[packages]]\nname = "a"\nversion = "1.0"\n'
        'sdist = { url = "https://h/a-1.0.tar.gz", hashes = { sha256 = "00" } }\n',
        encoding="utf-8",
    )
    assert _read_lock(lock) == [("a", "1.0", "https://h/a-1.0.tar.gz")]


# What uv locks for python-dateutil==2.4.1: a wheel, and an sdist named before PEP 625 (hashes shortened).
LEGACY_SDIST = """\
lock-version = "1.0"
created-by = "uv"

[[packages]]
name = "python-dateutil"
version = "2.4.1"
sdist = { url = "https://files.example/python-dateutil-2.4.1.tar.bz2", size = 207701, hashes = { sha256 = "a9" } }
wheels = [{ url = "https://files.example/python_dateutil-2.4.1-py2.py3-none-any.whl", hashes = { sha256 = "75" } }]

[[packages]]
name = "oldpkg"
version = "0.3"
sdist = { url = "https://files.example/oldpkg-0.3.tgz#sha256=01", hashes = { sha256 = "01" } }
"""


def test_the_uv_provider_reads_sdists_named_before_pep_625(tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text(LEGACY_SDIST, encoding="utf-8")
    assert _read_lock(lock) == [
        ("oldpkg", "0.3", "https://files.example/oldpkg-0.3.tgz#sha256=01"),
        ("python-dateutil", "2.4.1", "https://files.example/python_dateutil-2.4.1-py2.py3-none-any.whl"),
    ]
    # A lock handed in by a user is still held to PEP 751 as packaging.pylock reads it.
    with pytest.raises(ConfigError, match=r"Invalid sdist filename 'python-dateutil-2\.4\.1\.tar\.bz2'"):
        load_pylock(LEGACY_SDIST, "pylock.toml")


HEAD = 'lock-version = "1.0"\ncreated-by = "t"\n[[packages]]\n'
WHEEL = 'wheels = [{ url = "https://h/a-1-py3-none-any.whl", hashes = { sha256 = "00" } }]\n'


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        # PEP 751 asks for normalized names; packaging.pylock holds files to that.
        (HEAD + 'name = "A"\nversion = "1"\n' + WHEEL, ["field 'packages[0].name'", "not normalized", "PEP 751"]),
        ('lock-version = "1.0"\n[[packages]]\nname = "a"\nversion = "1"\n' + WHEEL, ["field 'created-by'"]),
        (HEAD + 'name = "a"\nversion = "1"\n', ["packages[0]", "PEP 751"]),
        (HEAD + 'name = "a"\nversion = "2"\n' + WHEEL, ["packages[0].wheels[0]", "not consistent"]),
        (HEAD + 'name = "a"\nversion = "1"\nwheels = [{ url = "https://h/a-1-py3-none-any.whl" }]\n', ["hashes"]),
    ],
)
def test_what_is_not_pep_751_is_one_config_error_naming_the_field(text: str, fragments: list[str]) -> None:
    with pytest.raises(ConfigError) as raised:
        load_pylock(text, "pylock.toml")
    message = str(raised.value)
    assert message.startswith("pylock.toml: ")
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_a_newer_minor_lock_version_is_read() -> None:
    assert load_pylock(UV_PYLOCK.replace('"1.0"', '"1.1"', 1), "pylock.toml").packages[0].name == "fakepkg"
