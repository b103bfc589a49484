"""The edges refuse what they cannot trust: path-like names, duplicate ids, the gate's files, untrusted page text."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from harness.config import discover_cases
from harness.errors import ConfigError, PackageIndexError
from harness.gate.acknowledgements import parse_acknowledgements
from harness.gate.command import check_acknowledged_cases, load_known_bad
from harness.index.cache import CachedIndex
from harness.index.local import FindLinksIndex
from harness.model.matrix import Matrix, MatrixSpec, parse_matrix
from harness.reports.html.style import TEXT_LIMIT, esc
from harness.repro.command import no_probes_error
from harness.sources import PackageSources
from harness.workspace import ExpandedMatrix, Workspace

CASE = 'id = "{id}"\npackages = ["fakepkg"]\n[signature]\nexception = "E"\n'


@pytest.mark.parametrize("name", ["/some/dir/pwned", "../x", "a/b", "x y"])
def test_versions_toml_refuses_a_package_name_that_is_not_one(name: str) -> None:
    with pytest.raises(ConfigError, match="is not a valid package name"):
        parse_matrix({"packages": {name: {"versions": ["1.0"]}}})
    with pytest.raises(ConfigError, match="is not a valid package name"):
        parse_matrix({"packages": {"a": {"versions": ["1.0"]}}, "exclude": [{name: "1.0"}]})


def test_the_index_cache_refuses_to_build_a_path_from_a_bad_name(tmp_path: Path) -> None:
    cache = CachedIndex(FindLinksIndex(tmp_path), tmp_path / "cache", offline=True)
    with pytest.raises(PackageIndexError, match="is not a valid package name"):
        cache.listing_path("/some/dir/pwned")
    assert cache.listing_path("Fake_Pkg").name == "fake-pkg.json"


def test_two_case_folders_with_one_id_are_one_error_naming_both(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "case.toml").write_text(CASE.format(id="same"))
        (tmp_path / folder / "replay.py").write_text("def replay(): pass\n")
    with pytest.raises(ConfigError) as raised:
        discover_cases(tmp_path)
    assert str(raised.value) == (
        f"case id 'same' is declared by two folders, {tmp_path / 'a'} and {tmp_path / 'b'}; give each case its own id"
    )
    assert len(discover_cases(tmp_path, ("a", "a"))) == 1  # one folder named twice is one case


def test_a_known_bad_file_given_explicitly_must_exist(tmp_path: Path) -> None:
    assert load_known_bad(tmp_path / "missing.json") == ()
    with pytest.raises(ConfigError, match="file not found"):
        load_known_bad(tmp_path / "missing.json", explicit=True)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_known_bad(deep)


def test_an_acknowledgement_for_no_known_case_is_an_error(tmp_path: Path) -> None:
    accepted = parse_acknowledgements({"accept": [{"case": "typo", "until": datetime.date(2999, 1, 1), "reason": "r"}]})
    check_acknowledged_cases(accepted, {"typo"}, tmp_path / "gate.toml")
    with pytest.raises(ConfigError, match="acknowledges case 'typo', which is not a case"):
        check_acknowledged_cases(accepted, {"real"}, tmp_path / "gate.toml")


def test_an_empty_matrix_is_diagnosed_as_such(tmp_path: Path) -> None:
    spec = MatrixSpec("3.11", (), source_file="versions.toml")
    expanded = ExpandedMatrix(Workspace(tmp_path), spec, PackageSources(), Matrix((), ()))
    assert "the ranges and excludes leave no combination;" in str(no_probes_error(expanded))


def test_page_text_is_capped_and_shows_control_characters() -> None:
    shown = esc("\x1b[2J\x00\u202e<b>" + "x" * 10 * TEXT_LIMIT)
    assert "\x1b" not in shown and "\x00" not in shown and "\u202e" not in shown
    assert shown.startswith("\\x1b[2J\\x00\\u202e&lt;b&gt;")
    assert len(shown) < TEXT_LIMIT + 100 and shown.endswith("characters cut ...]")
