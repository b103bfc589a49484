"""versions.toml parsing and matrix expansion."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from harness.errors import ConfigError
from harness.model.matrix import MissingPython, expand, parse_matrix

RELEASES = {
    canonicalize_name("x-transformers"): [Version(v) for v in ["1.42.20", "1.42.21", "1.43.1", "1.43.2", "2.0.0rc1"]],
    canonicalize_name("einops"): [Version(v) for v in ["0.7.0", "0.8.0", "0.8.2"]],
    canonicalize_name("torch"): [Version(v) for v in ["2.13.0+cpu", "2.14.1"]],
}


def spec(**packages: dict[str, Any]) -> dict[str, Any]:
    return {"python": "3.11", "packages": packages}


def labels(data: dict[str, Any]) -> list[str]:
    return [c.label for c in expand(parse_matrix(data), RELEASES).combinations]


def test_cartesian_product_in_axis_order() -> None:
    assert labels(
        spec(**{"x-transformers": {"versions": ["1.42.21"]}, "einops": {"versions": ["0.8.2", "0.8.0"]}})
    ) == [
        "x-transformers==1.42.21,einops==0.8.0",
        "x-transformers==1.42.21,einops==0.8.2",
    ]


def test_latest_skips_prereleases_and_range_expands_against_the_index() -> None:
    data = spec(**{"x-transformers": {"versions": ["latest"], "range": ">=1.42.21,<1.43.2"}})
    assert labels(data) == ["x-transformers==1.42.21", "x-transformers==1.43.1", "x-transformers==1.43.2"]


def test_local_version_on_the_index_satisfies_a_plain_version() -> None:
    assert labels(spec(torch={"versions": ["2.13.0"]})) == ["torch==2.13.0"]


def test_exclusions_are_kept_apart() -> None:
    data = spec(**{"x-transformers": {"versions": ["1.42.20", "1.42.21"]}, "einops": {"versions": ["0.7.0", "0.8.0"]}})
    data["exclude"] = [{"x-transformers": ">=1.42.21", "einops": "<0.8"}]
    matrix = expand(parse_matrix(data), RELEASES)
    assert [c.label for c in matrix.excluded] == ["x-transformers==1.42.21,einops==0.7.0"]
    assert len(matrix.combinations) == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"python": "3.11"}, "no [packages.NAME] tables"),
        (spec(einops={"versions": "0.8.0"}), "field 'packages.einops.versions': expected a list"),
        (spec(einops={"versions": ["zero"]}), "'zero' is neither"),
        (spec(einops={"range": ">=>0.8"}), "field 'packages.einops.range'"),
        (spec(einops={}), "field 'packages.einops.versions'"),
        (spec(einops={"versions": ["0.8.0"], "pin": 1}), "field 'packages.einops.pin'"),
        ({**spec(einops={"versions": ["0.8.0"]}), "exclude": [{"torch": "2.0"}]}, "not a package in [packages]"),
        ({**spec(einops={"versions": ["0.8.0"]}), "exclude": [{"einops": 8}]}, "exclude[0].einops"),
        ({**spec(einops={"versions": ["0.8.0"]}), "pythn": "3.11"}, "field 'pythn'"),
    ],
)
def test_config_errors_name_the_file_and_field(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=r"^versions\.toml: ") as caught:
        parse_matrix(data)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_version_that_does_not_exist_names_the_nearest_releases() -> None:
    with pytest.raises(ConfigError, match=r"einops 0.8.1 is not a release on the index; nearest: 0.7.0, 0.8.0, 0.8.2"):
        expand(parse_matrix(spec(einops={"versions": ["0.8.1"]})), RELEASES)


versions_strategy = st.lists(st.sampled_from(["1.0", "1.1", "2.0", "2.1", "3.0"]), min_size=1, max_size=4)


@given(a=versions_strategy, b=versions_strategy, excluded=st.sampled_from(["1.0", "2.0", "3.0"]))
def test_expansion_invariants(a: list[str], b: list[str], excluded: str) -> None:
    names: list[NormalizedName] = [canonicalize_name("a"), canonicalize_name("b")]
    releases = {name: [Version(v) for v in ["1.0", "1.1", "2.0", "2.1", "3.0"]] for name in names}
    data = {"packages": {"a": {"versions": a}, "b": {"versions": b}}, "exclude": [{"a": excluded}]}
    matrix = expand(parse_matrix(data), releases)
    everything = matrix.combinations + matrix.excluded
    # Every combination pins each axis once, none repeats, and the two parts partition the product.
    assert len(set(everything)) == len(everything) == len(set(a)) * len(set(b))
    assert all([p.name for p in c.pins] == names for c in everything)
    assert all(c.version_of(names[0]) == Version(excluded) for c in matrix.excluded)
    assert all(c.version_of(names[0]) != Version(excluded) for c in matrix.combinations)


def test_a_python_list_is_the_outermost_axis_and_named_first_in_each_label() -> None:
    data = {**spec(einops={"versions": ["0.8.0", "0.8.2"]}), "python": ["3.12", "3.11"]}
    parsed = parse_matrix(data)
    assert parsed.python == "3.12" and parsed.pythons == ("3.12", "3.11")
    assert parsed.missing_python is MissingPython.ERROR
    matrix = expand(parsed, RELEASES)
    assert [c.label for c in matrix.combinations] == [
        "python=3.12,einops==0.8.0",
        "python=3.12,einops==0.8.2",
        "python=3.11,einops==0.8.0",
        "python=3.11,einops==0.8.2",
    ]
    assert {c.python for c in matrix.combinations} == {"3.11", "3.12"}


def test_one_python_string_is_no_axis() -> None:
    parsed = parse_matrix(spec(einops={"versions": ["0.8.0"]}))
    assert parsed.pythons == ()
    (combination,) = expand(parsed, RELEASES).combinations
    assert combination.python is None and combination.label == "einops==0.8.0"


def test_exclusions_may_name_the_python_axis() -> None:
    data = {**spec(einops={"versions": ["0.7.0", "0.8.0"]}), "python": ["3.11", "3.12"], "missing-python": "record"}
    data["exclude"] = [{"python": ">=3.12", "einops": "<0.8"}]
    parsed = parse_matrix(data)
    assert parsed.missing_python is MissingPython.RECORD
    matrix = expand(parsed, RELEASES)
    assert [c.label for c in matrix.excluded] == ["python=3.12,einops==0.7.0"]
    assert len(matrix.combinations) == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**spec(einops={"versions": ["0.8.0"]}), "python": []}, "field 'python': expected a string or a list of"),
        ({**spec(einops={"versions": ["0.8.0"]}), "python": ["3.11", 3]}, "expected a string or a list of strings"),
        ({**spec(einops={"versions": ["0.8.0"]}), "python": ["3.11", "3.11"]}, "each listed once"),
        ({**spec(einops={"versions": ["0.8.0"]}), "missing-python": "skip"}, '"error" or "record"; got \'skip\''),
        # Without a Python axis, [[exclude]] cannot name python.
        ({**spec(einops={"versions": ["0.8.0"]}), "exclude": [{"python": "3.11"}]}, "not a package in [packages]"),
    ],
)
def test_python_axis_errors_name_the_field(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=r"^versions\.toml: ") as caught:
        parse_matrix(data)
    assert message in str(caught.value)
