"""Candidate versions from requirements files, pyproject, uv.lock, pylock.toml, flags and the environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.utils import NormalizedName, canonicalize_name

from harness.errors import ConfigError
from harness.model.pins import Pin
from harness.pinsources.interface import MarkerEnvironment, PinFormat, detect_format
from harness.pinsources.policy import (
    Watched,
    environment_candidates,
    merge_candidates,
    parse_candidate_options,
    pins_from_lock,
    pins_from_requirements,
    read_candidates,
)
from harness.pinsources.pylock import parse_pylock as pylock_entries
from harness.pinsources.pyproject import parse_pyproject as pyproject_entries
from harness.pinsources.requirements import IncludeEntry, parse_requirements
from harness.pinsources.requirements import read_requirements as requirements_entries
from harness.pinsources.uvlock import parse_uv_lock as uv_lock_entries

PY311 = {"python_version": "3.11", "python_full_version": "3.11.7", "sys_platform": "linux"}


def names(*raw: str) -> set[NormalizedName]:
    return {canonicalize_name(name) for name in raw}


def pins(*texts: str) -> tuple[Pin, ...]:
    return tuple(sorted(Pin.parse(text) for text in texts))


def from_text(
    text: str, watched: set[NormalizedName] | None = None, env: dict[str, str] | None = None
) -> tuple[Pin, ...]:
    lines = parse_requirements(text, "req.txt", environment=env or PY311)
    return pins_from_requirements([line for line in lines if not isinstance(line, IncludeEntry)], watched=watched)


# The gate's reading of each format: the readers of harness.pinsources under its watched-packages policy.
def read_requirements(path: Path, *, environment: MarkerEnvironment | None = None) -> tuple[Pin, ...]:
    return pins_from_requirements(requirements_entries(path, environment=environment))


def parse_pyproject(
    text: str,
    source: str,
    *,
    extras: tuple[str, ...] = (),
    watched: Watched = None,
    environment: MarkerEnvironment | None = None,
) -> tuple[Pin, ...]:
    entries = pyproject_entries(text, source, extras=extras, environment=environment)
    return pins_from_requirements(entries, watched=watched)


def parse_uv_lock(
    text: str, source: str, *, watched: Watched = None, environment: MarkerEnvironment | None = None
) -> tuple[Pin, ...]:
    return pins_from_lock(uv_lock_entries(text, source, environment=environment), watched=watched)


def parse_pylock(
    text: str, source: str, *, watched: Watched = None, environment: MarkerEnvironment | None = None
) -> tuple[Pin, ...]:
    return pins_from_lock(pylock_entries(text, source, environment=environment), watched=watched)


def assert_one_line_error(excinfo: pytest.ExceptionInfo[ConfigError], *fragments: str) -> None:
    message = str(excinfo.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("requirements.txt", PinFormat.REQUIREMENTS),
        ("requirements-dev.txt", PinFormat.REQUIREMENTS),
        ("deps/constraints.txt", PinFormat.REQUIREMENTS),
        ("requirements.in", PinFormat.REQUIREMENTS),
        ("requirements", PinFormat.REQUIREMENTS),
        ("sub/pyproject.toml", PinFormat.PYPROJECT),
        ("uv.lock", PinFormat.UV_LOCK),
        ("pylock.toml", PinFormat.PYLOCK),
        ("pylock.gpu.toml", PinFormat.PYLOCK),
    ],
)
def test_detect_format(filename: str, expected: PinFormat) -> None:
    assert detect_format(Path(filename)) is expected


@pytest.mark.parametrize("filename", ["setup.cfg", "Pipfile.lock", "poetry.lock", "pylock.a.b.toml", "x.toml"])
def test_detect_format_rejects_unknown_names(filename: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        detect_format(filename)
    assert_one_line_error(excinfo, filename, "requirements")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("einops==0.8.0\n", pins("einops==0.8.0")),
        ("# comment\n\nEinops == 0.8.0  # trailing comment\n", pins("einops==0.8.0")),
        ("x_transformers[extra]==1.43.1", pins("x-transformers==1.43.1")),
        ("torch==2.5.1+cpu --hash=sha256:abc --hash=sha256:def", pins("torch==2.5.1+cpu")),
        (
            "torch==2.5.1 \\\n    --hash=sha256:abc \\\n    --hash=sha256:def\neinops==0.8.0",
            pins("torch==2.5.1", "einops==0.8.0"),
        ),
        ("-i https://example.org/simple\n--extra-index-url https://x\n--pre\neinops==0.8.0", pins("einops==0.8.0")),
        ("einops===0.8.0", pins("einops==0.8.0")),
        ("einops==0.8.0,>=0.7", pins("einops==0.8.0")),
        ('einops==0.8.0 ; python_version >= "3.8"', pins("einops==0.8.0")),
        ('einops==0.6.0 ; python_version < "3.8"\neinops==0.8.0 ; python_version >= "3.8"', pins("einops==0.8.0")),
        ("./wheels/einops-0.8.0-py3-none-any.whl", pins("einops==0.8.0")),
        ("https://host/files/x_transformers-1.43.1-py3-none-any.whl", pins("x-transformers==1.43.1")),
        ("einops @ https://host/einops-0.8.0-py3-none-any.whl", pins("einops==0.8.0")),
        ("-e ./local-project\neinops==0.8.0", pins("einops==0.8.0")),
        (".\n./libs/tool ; python_version >= '3'\neinops==0.8.0", pins("einops==0.8.0")),
        ("--editable=.\neinops==0.8.0", pins("einops==0.8.0")),
        ("einops==0.8.0\neinops>=0.7", pins("einops==0.8.0")),
        ("", ()),
    ],
)
def test_requirements_pins(text: str, expected: tuple[Pin, ...]) -> None:
    assert from_text(text) == expected


@pytest.mark.parametrize(
    ("text", "watched", "expected"),
    [
        ("einops==0.8.0\nnumpy>=1\nrequests", names("einops"), pins("einops==0.8.0")),
        ("einops==0.8.0\ntorch==2.5.1", names("torch", "x-transformers"), pins("torch==2.5.1")),
        ("git+https://github.com/org/other.git#egg=other\ntorch==2.5.1", names("torch"), pins("torch==2.5.1")),
        ("numpy @ https://host/numpy.tar.gz\ntorch==2.5.1", names("torch"), pins("torch==2.5.1")),
        ("torch==2.5.1", set(), ()),
    ],
)
def test_unwatched_packages_are_ignored_whatever_their_form(
    text: str, watched: set[NormalizedName], expected: tuple[Pin, ...]
) -> None:
    assert from_text(text, watched) == expected


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("einops>=0.8", ["req.txt:1", "einops>=0.8", "einops==VERSION"]),
        ("\n\neinops==0.8.*", ["req.txt:3", "einops==0.8.*"]),
        ("einops", ["req.txt:1", "does not pin"]),
        ("einops @ https://host/einops.tar.gz", ["req.txt:1", "does not pin"]),
        ("-e git+https://github.com/arogozhnikov/einops#egg=einops", ["req.txt:1", "einops"]),
        ("git+https://github.com/arogozhnikov/einops.git#egg=einops", ["req.txt:1", "does not pin"]),
        ("einops==0.8.0\neinops==0.7.0", ["req.txt:2", "conflicts", "req.txt:1"]),
        ("einops==0.8.0\neinops<0.8", ["req.txt:2", "excludes"]),
        ("einops==0.8.0,==0.7.0", ["req.txt:1", "never be satisfied"]),
        ("einops==0.8.0,<0.8", ["req.txt:1", "never be satisfied"]),
        ("einops===foo", ["req.txt:1", "not PEP 440"]),
        ("einops 0.8.0", ["req.txt:1", "invalid requirement"]),
        ("einops==0.8.0 ; python_version >>> '3'", ["req.txt:1", "invalid requirement"]),
        ("git+https://github.com/arogozhnikov/einops.git@v0.8.0", ["req.txt:1", "cannot tell which package"]),
        ("-e git+https://github.com/arogozhnikov/einops.git", ["req.txt:1", "cannot tell which package"]),
        ("https://host/files/einops-0.8.0.tar.gz", ["req.txt:1", "#egg=NAME"]),
        ("-r", ["req.txt:1", "-r needs a file name"]),
        ('-r "unbalanced', ["req.txt:1", "cannot split"]),
    ],
)
def test_requirements_errors_name_file_and_line(text: str, fragments: list[str]) -> None:
    with pytest.raises(ConfigError) as excinfo:
        from_text(text, names("einops"))
    assert_one_line_error(excinfo, *fragments)


def test_marker_is_evaluated_for_the_given_environment() -> None:
    text = 'torch==2.1.0 ; python_version < "3.12"\ntorch==2.5.1 ; python_version >= "3.12"'
    assert from_text(text, env={"python_version": "3.11"}) == pins("torch==2.1.0")
    assert from_text(text, env={"python_version": "3.12"}) == pins("torch==2.5.1")


def test_unpinned_requirement_excluded_by_its_marker_is_not_an_error() -> None:
    assert from_text('einops>=0.8 ; sys_platform == "win32"\ntorch==2.5.1') == pins("torch==2.5.1")


def test_parse_requirements_records_includes_and_line_numbers() -> None:
    lines = parse_requirements("# top\n-r base.txt\n--constraint=c.txt\n-rother.txt\neinops==0.8.0\n", "r.txt")
    described = [
        (type(line).__name__, line.location.line, getattr(line, "target", None), line.constraint) for line in lines
    ]
    assert described == [
        ("IncludeEntry", 2, "base.txt", False),
        ("IncludeEntry", 3, "c.txt", True),
        ("IncludeEntry", 4, "other.txt", False),
        ("PinnedEntry", 5, None, False),
    ]


# --- files: includes and constraints ------------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_includes_are_relative_to_the_including_file(tmp_path: Path) -> None:
    write(tmp_path / "reqs/base.txt", "einops==0.8.0\n-r nested/torch.txt\n")
    write(tmp_path / "reqs/nested/torch.txt", "torch==2.5.1\n")
    top = write(tmp_path / "requirements.txt", "-r reqs/base.txt\nx-transformers==1.43.2\n")
    assert read_requirements(top, environment=PY311) == pins("einops==0.8.0", "torch==2.5.1", "x-transformers==1.43.2")


def test_constraints_pin_loose_requirements_but_install_nothing(tmp_path: Path) -> None:
    write(tmp_path / "constraints.txt", "einops==0.8.0\ntorch==2.5.1\nnumpy>=1\n")
    top = write(tmp_path / "requirements.txt", "-c constraints.txt\neinops>=0.7\n")
    # torch is pinned by a constraint: if anything installs it, it is that version, so it is a candidate;
    # numpy's loose constraint names no version and installs nothing.
    assert read_requirements(top, environment=PY311) == pins("einops==0.8.0", "torch==2.5.1")


def test_diamond_includes_are_fine_but_cycles_are_not(tmp_path: Path) -> None:
    write(tmp_path / "common.txt", "einops==0.8.0\n")
    write(tmp_path / "a.txt", "-r common.txt\n")
    write(tmp_path / "b.txt", "-r common.txt\n")
    top = write(tmp_path / "requirements.txt", "-r a.txt\n-r b.txt\n")
    assert read_requirements(top, environment=PY311) == pins("einops==0.8.0")

    write(tmp_path / "loop.txt", "-r requirements-loop.txt\n")
    loop = write(tmp_path / "requirements-loop.txt", "einops==0.8.0\n-r loop.txt\n")
    with pytest.raises(ConfigError) as excinfo:
        read_requirements(loop)
    assert_one_line_error(excinfo, "loop.txt:1", "cycle")


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("einops==0.8.0\n-r missing.txt\n", ["requirements.txt:2", "missing.txt", "not found"]),
        ("-r https://example.org/r.txt\n", ["requirements.txt:1", "remote include"]),
    ],
)
def test_include_errors_name_the_including_line(tmp_path: Path, text: str, fragments: list[str]) -> None:
    top = write(tmp_path / "requirements.txt", text)
    with pytest.raises(ConfigError) as excinfo:
        read_requirements(top)
    assert_one_line_error(excinfo, *fragments)


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as excinfo:
        read_candidates(tmp_path / "requirements.txt")
    assert_one_line_error(excinfo, "requirements.txt", "not found")
    binary = tmp_path / "requirements-bin.txt"
    binary.write_bytes(b"\xff\xfe\x00einops")
    with pytest.raises(ConfigError) as excinfo:
        read_candidates(binary)
    assert_one_line_error(excinfo, "requirements-bin.txt", "UTF-8")


# --- pyproject.toml -----------------------------------------------------------------------------------------------

PYPROJECT = """
[project]
name = "my-app"
version = "1.0"
dependencies = ["x-transformers==1.43.2", "einops==0.8.0", "numpy>=1"]

[project.optional-dependencies]
gpu = ["torch==2.5.1", 'nvidia-thing==1.0 ; sys_platform == "win32"']
cpu = ["torch==2.5.1+cpu"]
all = ["my-app[gpu]", "rich>=13"]
"""


@pytest.mark.parametrize(
    ("extras", "watched", "expected"),
    [
        ((), names("x-transformers", "einops", "torch"), pins("x-transformers==1.43.2", "einops==0.8.0")),
        (("gpu",), names("einops", "torch"), pins("einops==0.8.0", "torch==2.5.1")),
        (("CPU",), names("torch"), pins("torch==2.5.1+cpu")),
        (("all",), names("torch"), pins("torch==2.5.1")),
        (("gpu",), names("nvidia-thing"), ()),
    ],
)
def test_pyproject(extras: tuple[str, ...], watched: set[NormalizedName], expected: tuple[Pin, ...]) -> None:
    assert parse_pyproject(PYPROJECT, "pyproject.toml", extras=extras, watched=watched, environment=PY311) == expected


@pytest.mark.parametrize(
    ("text", "extras", "watched", "fragments"),
    [
        (PYPROJECT, (), None, ["pyproject.toml", "project.dependencies[2]", "numpy"]),
        (PYPROJECT, ("cuda",), None, ["no optional-dependencies group 'cuda'", "all, cpu, gpu"]),
        (PYPROJECT, ("gpu", "cpu"), names("torch"), ["torch", "conflicts"]),
        (PYPROJECT, ("all",), names("rich"), ["project.optional-dependencies.all[1]", "rich"]),
        ("[project\nname = 1", (), None, ["pyproject.toml", "not valid TOML"]),
        ("[tool.x]\na = 1\n", (), None, ["no [project] table"]),
        ('[project]\nname = "a"\ndynamic = ["dependencies"]\n', (), None, ["dynamic"]),
        ('[project]\nname = "a"\ndependencies = "einops==1"\n', (), None, ["project.dependencies", "list of strings"]),
        ('[project]\nname = "a"\ndependencies = ["einops 1"]\n', (), None, ["project.dependencies[0]", "invalid"]),
    ],
    ids=["unpinned", "unknown-group", "conflict", "via-self-extra", "toml", "no-project", "dynamic", "type", "bad"],
)
def test_pyproject_errors(
    text: str, extras: tuple[str, ...], watched: set[NormalizedName] | None, fragments: list[str]
) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse_pyproject(text, "pyproject.toml", extras=extras, watched=watched, environment=PY311)
    assert_one_line_error(excinfo, *fragments)


def test_pyproject_markers_see_the_group_as_extra() -> None:
    text = """
[project]
name = "a"
dependencies = []
[project.optional-dependencies]
gpu = ['torch==2.5.1 ; extra == "gpu"']
"""
    assert parse_pyproject(text, "pyproject.toml", extras=("gpu",)) == pins("torch==2.5.1")


# --- uv.lock ------------------------------------------------------------------------------------------------------

UV_LOCK = """
version = 1
requires-python = ">=3.10"
resolution-markers = ["python_full_version >= '3.12'", "python_full_version < '3.12'"]

[[package]]
name = "my-app"
source = { editable = "." }

[[package]]
name = "einops"
version = "0.8.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "torch"
version = "2.1.0"
source = { registry = "https://pypi.org/simple" }
resolution-markers = ["python_full_version < '3.12'"]

[[package]]
name = "torch"
version = "2.5.1"
source = { registry = "https://pypi.org/simple" }
resolution-markers = ["python_full_version >= '3.12'"]
"""


@pytest.mark.parametrize(
    ("python", "watched", "expected"),
    [
        ("3.11.7", None, pins("einops==0.8.0", "torch==2.1.0")),
        ("3.12.1", None, pins("einops==0.8.0", "torch==2.5.1")),
        ("3.12.1", names("torch"), pins("torch==2.5.1")),
    ],
)
def test_uv_lock(python: str, watched: set[NormalizedName] | None, expected: tuple[Pin, ...]) -> None:
    environment = {"python_full_version": python, "python_version": python.rsplit(".", 1)[0]}
    assert parse_uv_lock(UV_LOCK, "uv.lock", watched=watched, environment=environment) == expected


@pytest.mark.parametrize(
    ("text", "watched", "fragments"),
    [
        (UV_LOCK, names("my-app"), ["uv.lock: package[0]", "no version"]),
        ('[[package]]\nname = "a"\nversion = "1"\n[[package]]\nname = "A"\nversion = "2"\n', None, ["uv.lock", "both"]),
        ('[[package]]\nname = "a"\nversion = "one"\n', None, ["package[0]", "not a valid version"]),
        ('[[package]]\nversion = "1"\n', None, ["package[0]", "name"]),
        ('package = "x"\n', None, ["uv.lock", "array of tables"]),
        ("version = \n", None, ["uv.lock", "not valid TOML"]),
    ],
)
def test_uv_lock_errors(text: str, watched: set[NormalizedName] | None, fragments: list[str]) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse_uv_lock(text, "uv.lock", watched=watched, environment=PY311)
    assert_one_line_error(excinfo, *fragments)


# --- pylock.toml --------------------------------------------------------------------------------------------------

PYLOCK = """
lock-version = "1.0"
created-by = "hand"

[[packages]]
name = "einops"
version = "0.8.0"
wheels = [{ url = "https://example.org/einops-0.8.0-py3-none-any.whl", hashes = { sha256 = "00" } }]

[[packages]]
name = "torch"
version = "2.5.1"
marker = "sys_platform == 'linux'"
wheels = [{ url = "https://example.org/torch-2.5.1-cp311-cp311-manylinux_2_28_x86_64.whl", hashes = { sha256 = "01" } }]

[[packages]]
name = "torch"
version = "2.5.1+cpu"
marker = "sys_platform == 'win32'"
wheels = [{ url = "https://example.org/torch-2.5.1%2Bcpu-cp311-cp311-win_amd64.whl", hashes = { sha256 = "02" } }]

[[packages]]
name = "cuda-extra"
version = "1.0"
marker = "'gpu' in extras"
sdist = { url = "https://example.org/cuda_extra-1.0.tar.gz", hashes = { sha256 = "03" } }

[[packages]]
name = "local"
directory = { path = "." }
"""


@pytest.mark.parametrize(
    ("platform", "expected"),
    [("linux", pins("einops==0.8.0", "torch==2.5.1")), ("win32", pins("einops==0.8.0", "torch==2.5.1+cpu"))],
)
def test_pylock(platform: str, expected: tuple[Pin, ...]) -> None:
    assert parse_pylock(PYLOCK, "pylock.toml", environment={"sys_platform": platform}) == expected


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ('[[packages]]\nname = "a"\nversion = "1"\n', ["pylock.toml", "lock-version"]),
        ('lock-version = "2.0"\n', ["pylock.toml", "2.0", "not supported"]),
        ('lock-version = "1.0"\n[[packages]]\nname = "a"\nversion = "1"\nmarker = 3\n', ["packages[0]", "marker"]),
        ('lock-version = "1.0"\n[[packages]]\nname = "a"\nversion = "1"\nmarker = "os >< 1"\n', ["packages[0]"]),
        (
            'lock-version = "1.0"\ncreated-by = "t"\n'
            '[[packages]]\nname = "a"\nversion = "1"\nsdist = { url = "https://h/a-1.tar.gz", hashes = { x = "0" } }\n'
            '[[packages]]\nname = "a"\nversion = "2"\nsdist = { url = "https://h/a-2.tar.gz", hashes = { x = "0" } }\n',
            ["both"],
        ),
    ],
)
def test_pylock_errors(text: str, fragments: list[str]) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse_pylock(text, "pylock.toml")
    assert_one_line_error(excinfo, *fragments)


# --- read_candidates dispatch -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "text"),
    [
        ("requirements.txt", "einops==0.8.0\nnumpy>=1\n"),
        ("pyproject.toml", '[project]\nname = "a"\ndependencies = ["einops==0.8.0", "numpy>=1"]\n'),
        ("uv.lock", '[[package]]\nname = "einops"\nversion = "0.8.0"\n'),
        (
            "pylock.toml",
            'lock-version = "1.0"\ncreated-by = "t"\n[[packages]]\nname = "einops"\nversion = "0.8.0"\n'
            'wheels = [{ url = "https://h/einops-0.8.0-py3-none-any.whl", hashes = { sha256 = "00" } }]\n',
        ),
    ],
)
def test_read_candidates_dispatches_on_the_file_name(tmp_path: Path, filename: str, text: str) -> None:
    path = write(tmp_path / filename, text)
    assert read_candidates(path, watched=names("einops")) == pins("einops==0.8.0")


def test_extras_only_apply_to_pyproject(tmp_path: Path) -> None:
    path = write(tmp_path / "requirements.txt", "einops==0.8.0\n")
    with pytest.raises(ConfigError) as excinfo:
        read_candidates(path, extras=("gpu",))
    assert_one_line_error(excinfo, "pyproject")


def test_an_explicit_format_overrides_the_name(tmp_path: Path) -> None:
    path = write(tmp_path / "deps.lock", '[[package]]\nname = "einops"\nversion = "0.8.0"\n')
    assert read_candidates(path, format=PinFormat.UV_LOCK) == pins("einops==0.8.0")


# --- explicit candidates, the environment, merging ----------------------------------------------------------------


def test_candidate_options() -> None:
    assert parse_candidate_options(["Einops==0.8.0", "torch==2.5.1"], watched=names("einops")) == pins("einops==0.8.0")
    assert parse_candidate_options(["einops==0.8.0", "einops==0.8"]) == pins("einops==0.8.0")


@pytest.mark.parametrize(
    ("texts", "fragment"), [(["einops>=0.8"], "--candidate"), (["einops==0.8", "einops==0.7"], "both")]
)
def test_candidate_option_errors(texts: list[str], fragment: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse_candidate_options(texts)
    assert_one_line_error(excinfo, fragment)


@dataclass(frozen=True)
class FakeDistribution:
    name: str
    version: str


def test_environment_candidates() -> None:
    installed = [
        FakeDistribution("X_Transformers", "1.43.2"),
        FakeDistribution("einops", "0.8.0"),
        FakeDistribution("einops", "0.6.0"),  # shadowed by the first on sys.path
        FakeDistribution("", "1.0"),
        FakeDistribution("numpy", "2.0.0"),
    ]
    assert environment_candidates(installed) == pins("x-transformers==1.43.2", "einops==0.8.0", "numpy==2.0.0")
    assert environment_candidates(installed, watched=names("einops")) == pins("einops==0.8.0")


def test_environment_candidates_reject_non_pep440_versions_of_watched_packages() -> None:
    installed = [FakeDistribution("legacy", "1.0-custom-build"), FakeDistribution("einops", "0.8.0")]
    assert environment_candidates(installed, watched=names("einops")) == pins("einops==0.8.0")
    with pytest.raises(ConfigError) as excinfo:
        environment_candidates(installed)
    assert_one_line_error(excinfo, "legacy", "1.0-custom-build")


def test_merge_candidates_later_groups_override() -> None:
    from_file = pins("einops==0.8.0", "torch==2.5.1")
    from_flags = pins("einops==0.8.1")
    assert merge_candidates(from_file, from_flags) == pins("einops==0.8.1", "torch==2.5.1")
    assert merge_candidates(from_flags, from_file) == pins("einops==0.8.0", "torch==2.5.1")
