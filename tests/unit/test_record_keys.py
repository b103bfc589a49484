"""A record's key changes with every field of its request, and the case hash with every file of the case folder."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from harness.config import case_content_hash, load_case
from harness.model.pins import Pin
from harness.model.probe_record import ProbeRequest, SourceTree

BASE = ProbeRequest(
    case_id="demo",
    case_hash="0123456789abcdef",
    parameters=(("n", 3),),
    pins=(Pin.of("fakepkg", "1.4"), Pin.of("fakedep", "2.0")),
    python="3.11",
)

# One changed value per field of ProbeRequest; the completeness test below fails when a field is added
# without a row here, so a new field cannot silently stay out of the key.
CHANGES: dict[str, Any] = {
    "case_id": "other",
    "case_hash": "fedcba9876543210",
    "parameters": (("n", 4),),
    "pins": (Pin.of("fakepkg", "1.5"), Pin.of("fakedep", "2.0")),
    "python": "3.12",
    "forced": True,
    "exclude_newer": "2024-01-05T00:00:00Z",
    "current_packages": ("fakedep",),
    "sources_digest": "abc",
    "source": SourceTree("fakepkg", "0" * 40),
    "repeat": 6,
    "sample": 1,
    "repair": False,
}
FURTHER: list[tuple[str, Any]] = [
    ("parameters", (("n", 3), ("m", 1))),
    ("parameters", (("n", "3"),)),  # a string 3 is another parameter than the integer 3
    ("pins", (Pin.of("fakepkg", "1.4"),)),
    ("pins", (Pin.of("fakepkg", "1.4"), Pin.of("fakedep", "2.0"), Pin.of("extra", "1"))),
    ("exclude_newer", "2024-01-06T00:00:00Z"),
    ("current_packages", ("fakedep", "fakepkg")),
    ("source", SourceTree("fakepkg", "1" * 40)),
    ("source", SourceTree("fakedep", "0" * 40)),
]


def test_every_field_of_the_request_has_a_row() -> None:
    assert set(CHANGES) == {field.name for field in dataclasses.fields(ProbeRequest)}


@pytest.mark.parametrize(("name", "value"), [*CHANGES.items(), *FURTHER])
def test_changing_a_field_changes_the_key(name: str, value: Any) -> None:
    changed = dataclasses.replace(BASE, **{name: value})
    assert changed != BASE
    assert changed.key != BASE.key


def test_every_changed_request_has_its_own_key() -> None:
    keys = {dataclasses.replace(BASE, **{name: value}).key for name, value in [*CHANGES.items(), *FURTHER]}
    assert len(keys) == len(CHANGES) + len(FURTHER)


def test_equal_requests_share_a_key_whatever_the_order_of_pins_and_exemptions() -> None:
    reordered = dataclasses.replace(BASE, pins=tuple(reversed(BASE.pins)))
    assert reordered == BASE and reordered.key == BASE.key
    one = dataclasses.replace(BASE, current_packages=("a", "b"))
    assert one.key == dataclasses.replace(BASE, current_packages=("b", "a")).key


def write_case(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "case.toml").write_text(
        'id = "demo"\ntitle = "t"\npackages = ["fakepkg"]\n[signature]\nexception = "fakepkg.FakeError"\n'
        '[recorded_environment]\nfakepkg = "1.5"\n',
        encoding="utf-8",
    )
    (folder / "replay.py").write_text("import helper\n\n\ndef replay():\n    helper.run()\n", encoding="utf-8")
    (folder / "helper.py").write_text("def run():\n    pass\n", encoding="utf-8")
    (folder / "data").mkdir()
    (folder / "data" / "input.json").write_text("[1, 2]\n", encoding="utf-8")
    return folder


@pytest.fixture
def case_folder(tmp_path: Path) -> Path:
    return write_case(tmp_path / "demo")


def test_the_loaded_case_carries_the_folder_hash(case_folder: Path) -> None:
    assert load_case(case_folder).content_hash == case_content_hash(case_folder)
    assert len(case_content_hash(case_folder)) == 16


@pytest.mark.parametrize("name", ["case.toml", "replay.py", "helper.py", "data/input.json"])
def test_editing_any_file_changes_the_hash(case_folder: Path, name: str) -> None:
    before = case_content_hash(case_folder)
    with (case_folder / name).open("a", encoding="utf-8") as handle:
        handle.write("\n# edited\n")
    assert case_content_hash(case_folder) != before


def test_adding_removing_or_renaming_a_file_changes_the_hash(case_folder: Path) -> None:
    before = case_content_hash(case_folder)
    (case_folder / "notes.txt").write_text("", encoding="utf-8")
    added = case_content_hash(case_folder)
    assert added != before
    (case_folder / "notes.txt").rename(case_folder / "notes2.txt")
    assert case_content_hash(case_folder) not in {before, added}
    (case_folder / "notes2.txt").unlink()
    assert case_content_hash(case_folder) == before
    (case_folder / "data" / "input.json").rename(case_folder / "input.json")
    assert case_content_hash(case_folder) != before


def test_moving_bytes_between_files_changes_the_hash(case_folder: Path) -> None:
    (case_folder / "a.txt").write_text("xy", encoding="utf-8")
    (case_folder / "b.txt").write_text("", encoding="utf-8")
    before = case_content_hash(case_folder)
    (case_folder / "a.txt").write_text("x", encoding="utf-8")
    (case_folder / "b.txt").write_text("y", encoding="utf-8")
    assert case_content_hash(case_folder) != before


def test_bytecode_caches_do_not_change_the_hash(case_folder: Path) -> None:
    before = case_content_hash(case_folder)
    (case_folder / "__pycache__").mkdir()
    (case_folder / "__pycache__" / "helper.cpython-311.pyc").write_bytes(b"\x00\x01")
    (case_folder / "data" / "__pycache__").mkdir()
    (case_folder / "data" / "__pycache__" / "notes.txt").write_text("cache", encoding="utf-8")
    (case_folder / "stale.pyc").write_bytes(b"\x02")
    assert case_content_hash(case_folder) == before


def test_the_hash_depends_on_content_not_on_where_the_folder_is(tmp_path: Path, case_folder: Path) -> None:
    elsewhere = write_case(tmp_path / "nested" / "copy")
    assert case_content_hash(elsewhere) == case_content_hash(case_folder)
