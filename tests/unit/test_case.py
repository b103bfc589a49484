"""case.toml parsing and case discovery."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.config import discover_cases, load_case
from harness.errors import ConfigError
from harness.model.case import parse_case

REPO = Path(__file__).resolve().parents[2]
VALID: dict[str, Any] = {
    "id": "demo",
    "packages": ["fakepkg"],
    "parameters": {"n": 3},
    "signature": {"exception": "fakepkg.FakeError", "message_contains": ["n -> n 1"]},
    "recorded_environment": {"python": "3.11", "fakepkg": "1.5"},
    "sweep": {"n": [1, 2]},
}


def parse(data: dict[str, Any]) -> Any:
    return parse_case(data, directory=Path("/cases/demo"), content_hash="0")


def test_valid_case() -> None:
    case = parse(VALID)
    assert case.packages == ("fakepkg",)
    assert str(case.recorded.version_of("FakePkg")) == "fakepkg==1.5"
    assert list(case.sweep_points()) == [(("n", 1),), (("n", 2),)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": "bad id!"}, "'id'"),
        ({"packages": []}, "'packages'"),
        ({"timeout": -1}, "'timeout'"),
        ({"timeout": True}, "'timeout'"),
        ({"signature": {}}, "'signature.exception'"),
        ({"signature": {"exception": "E", "message_regex": "("}}, "'signature.message_regex'"),
        ({"recorded_environment": {"fakepkg": 1.5}}, "'recorded_environment.fakepkg'"),
        ({"sweep": {"n": []}}, "'sweep.n'"),
        ({"parameters": {"n": [1]}}, "'parameters.n'"),
        ({"colour": "red"}, "'colour'"),
    ],
)
def test_case_errors_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match="case.toml: field " + field):
        parse({**VALID, **change})


def test_recorded_case_loads_and_its_hash_follows_content(tmp_path: Path) -> None:
    case = load_case(REPO / "cases" / "rotary_xpos_batch1_seq32")
    assert case.recorded.version_of("x-transformers") is not None
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("case.toml", "replay.py"):
        (copy / name).write_bytes((case.directory / name).read_bytes())
    assert load_case(copy).content_hash == case.content_hash
    (copy / "replay.py").write_text("def replay(): pass\n")
    assert load_case(copy).content_hash != case.content_hash


def test_discovery_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no cases folder"):
        discover_cases(tmp_path / "missing")
    with pytest.raises(ConfigError, match="case 'nope' not found"):
        discover_cases(REPO / "cases", ("nope",))
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "case.toml").write_text("id = 'c'\npackages = ['x']\n[signature]\nexception = 'E'\n")
    with pytest.raises(ConfigError, match=r"replay\.py: missing"):
        discover_cases(tmp_path)
    (tmp_path / "c" / "case.toml").write_text("id = [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        discover_cases(tmp_path)
