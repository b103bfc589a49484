"""Case ids and package names are checked before any path is built from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.model.names import check_case_id, is_case_id, package_name
from harness.record.capture import record_case


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("rotary_xpos_batch1_seq32", True),
        ("a.b-c_1", True),
        ("1st", True),
        ("..", False),
        (".", False),
        ("../../elsewhere/x", False),
        ("/abs/id", False),
        ("my bug", False),
        ("", False),
        ("-flag", False),
        ("a/b", False),
        ("tab\there", False),
    ],
)
def test_case_ids(text: str, valid: bool) -> None:
    assert is_case_id(text) is valid
    if not valid:
        with pytest.raises(ConfigError, match="expected letters, digits"):
            check_case_id(text)


@pytest.mark.parametrize("text", ["/some/dir/pwned", "../x", "a b", "", "x;rm", "-x"])
def test_bad_package_names_are_one_line_errors(text: str) -> None:
    with pytest.raises(ConfigError, match="is not a valid package name"):
        package_name(text)


def test_package_names_are_normalized() -> None:
    assert package_name("X_Transformers") == "x-transformers"


@pytest.mark.parametrize("case_id", ["../../../elsewhere/x", "/tmp/abs-id", "my bug"])
def test_record_refuses_an_id_that_is_not_one_folder_before_writing(tmp_path: Path, case_id: str) -> None:
    script = tmp_path / "failing.py"
    script.write_text("raise ValueError('x')\n", encoding="utf-8")
    cases = tmp_path / "deep" / "er" / "cases"
    with pytest.raises(ConfigError, match="--id"):
        record_case(script, cases, case_id=case_id, packages=["fakepkg"], python="python3")
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == [Path("failing.py")]


def test_record_refuses_a_path_as_package(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--packages"):
        record_case(tmp_path / "x.py", tmp_path / "cases", case_id="ok", packages=["/some/dir"], python="python3")
