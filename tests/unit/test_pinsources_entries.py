"""What each pin-file reader yields: pinned entries, skipped entries as values, and where each came from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from harness.errors import ConfigError
from harness.pinsources.installed import installed_entries
from harness.pinsources.interface import Entry, Location, PinnedEntry, SkippedEntry, SkipReason
from harness.pinsources.policy import environment_pins, pins_from_requirements, read_candidates
from harness.pinsources.pyproject import parse_pyproject
from harness.pinsources.requirements import IncludeEntry, parse_requirements
from harness.pinsources.uvlock import parse_uv_lock

LINUX = {"sys_platform": "linux", "python_version": "3.11", "python_full_version": "3.11.9"}


def only(lines: tuple[Entry | IncludeEntry, ...]) -> Entry | IncludeEntry:
    (line,) = lines
    return line


def skipped(text: str) -> SkippedEntry:
    line = only(parse_requirements(text, "r.txt", environment=LINUX))
    assert isinstance(line, SkippedEntry)
    return line


@pytest.mark.parametrize(
    ("text", "reason", "name"),
    [
        ("torch>=2", SkipReason.UNPINNED, "torch"),
        ("torch", SkipReason.UNPINNED, "torch"),
        ("torch==2.*", SkipReason.UNPINNED, "torch"),
        ("torch==2.0,==2.1", SkipReason.UNSATISFIABLE, "torch"),
        ("torch==2.0,<2", SkipReason.UNSATISFIABLE, "torch"),
        ("torch @ https://host/torch.tar.gz", SkipReason.DIRECT_SOURCE, "torch"),
        ("git+https://host/einops.git#egg=einops", SkipReason.DIRECT_SOURCE, "einops"),
        ("git+https://host/einops.git@v1", SkipReason.DIRECT_SOURCE, None),
        ("./libs/tool", SkipReason.LOCAL_PROJECT, None),
        ("--frobnicate", SkipReason.UNKNOWN_OPTION, None),
    ],
)
def test_requirement_lines_that_name_no_one_version_are_skipped_with_the_reason(
    text: str, reason: SkipReason, name: str | None
) -> None:
    entry = skipped(text)
    assert (entry.reason, entry.name, entry.location, entry.text) == (reason, name, Location("r.txt", 1), text)


def test_a_skipped_entry_keeps_what_a_caller_needs_to_decide() -> None:
    entry = skipped("-e git+https://host/x.git#egg=x")
    assert (entry.editable, entry.direct_source, entry.name) == (True, "vcs", "x")
    assert skipped('torch<2 ; sys_platform == "win32"').applies is False
    assert skipped("torch<2").specifier == SpecifierSet("<2")


def test_pinned_requirement_entries() -> None:
    pinned = only(parse_requirements('einops==0.8.0,>=0.7 ; sys_platform == "win32"', "r.txt", environment=LINUX))
    assert pinned == PinnedEntry(
        canonicalize_name("einops"), Version("0.8.0"), Location("r.txt", 1),
        'einops==0.8.0,>=0.7 ; sys_platform == "win32"', False, SpecifierSet("==0.8.0,>=0.7"),
    )  # fmt: skip
    wheel = only(parse_requirements("./wheels/einops-0.8.0-py3-none-any.whl", "r.txt"))
    assert isinstance(wheel, PinnedEntry)
    assert (str(wheel.pin), wheel.direct_source) == ("einops==0.8.0", "path")


def test_includes_are_values_until_a_file_is_read() -> None:
    assert parse_requirements("-c c.txt\n", "r.txt") == (IncludeEntry(Location("r.txt", 1), "c.txt", True),)
    line = only(parse_requirements("einops==0.8.0\n", "c.txt", constraint=True))
    assert isinstance(line, PinnedEntry)
    assert line.constraint


def test_a_comment_ends_a_continued_line_as_in_pip() -> None:
    lines = parse_requirements("a==1 # pinned \\\nb==2\n", "r.txt")
    assert [(line.location.line, str(line.pin)) for line in lines if isinstance(line, PinnedEntry)] == [
        (1, "a==1"),
        (2, "b==2"),
    ]


def test_uv_lock_entries_carry_their_source_and_fork() -> None:
    text = """
version = 1
[[package]]
name = "my-app"
version = "0.1.0"
source = { editable = "." }
[[package]]
name = "tool"
source = { git = "https://host/tool" }
[[package]]
name = "numpy"
version = "2.3.0"
source = { registry = "https://pypi.org/simple" }
resolution-markers = ["python_full_version >= '3.12'"]
"""
    app, tool, numpy = parse_uv_lock(text, "uv.lock", environment=LINUX)
    assert isinstance(app, PinnedEntry)
    assert (app.direct_source, str(app.location)) == ("editable", "uv.lock: package[0]")
    assert tool == SkippedEntry(
        SkipReason.UNPINNED,
        Location("uv.lock", field="package", index=1),
        "tool",
        canonicalize_name("tool"),
        direct_source="git",
    )
    assert isinstance(numpy, PinnedEntry)
    assert (numpy.applies, numpy.direct_source) == (False, None)


def test_pyproject_entries_are_located_by_field() -> None:
    text = '[project]\nname = "a"\ndependencies = ["einops==0.8.0", "numpy>=1"]\n'
    einops, numpy = parse_pyproject(text, "pyproject.toml")
    assert str(einops.location) == "pyproject.toml: project.dependencies[0]"
    assert isinstance(numpy, SkippedEntry)
    assert (numpy.reason, str(numpy.location)) == (SkipReason.UNPINNED, "pyproject.toml: project.dependencies[1]")


@dataclass(frozen=True)
class FakeDistribution:
    name: str
    version: str


def test_installed_entries_skip_the_shadowed_the_nameless_and_non_pep440() -> None:
    found = installed_entries(
        [
            FakeDistribution("einops", "0.8.0"),
            FakeDistribution("Einops", "0.6.0"),
            FakeDistribution("", "1.0"),
            FakeDistribution("legacy", "1.0-custom-build"),
        ]
    )
    assert [type(entry).__name__ for entry in found] == ["PinnedEntry", "SkippedEntry", "SkippedEntry", "SkippedEntry"]
    assert [(entry.reason, entry.name) for entry in found if isinstance(entry, SkippedEntry)] == [
        (SkipReason.SHADOWED, "einops"),
        (SkipReason.NO_NAME, None),
        (SkipReason.INVALID_VERSION, "legacy"),
    ]


# --- one file, two policies ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("-e ./local-project\neinops==0.8.0\n", "editable install"),
        (".\neinops==0.8.0\n", "URL or path"),
        ("einops==0.8.0\nnumpy>=1\n", "does not pin one version"),
        ("einops==0.8.0\n--frobnicate\n", "unknown option"),
        ("einops==0.8.0\nhttps://host/x_transformers-1.43.1-py3-none-any.whl\n", "URL or path"),
    ],
)
def test_the_culprit_refuses_what_the_gate_skips(tmp_path: Path, text: str, refusal: str) -> None:
    lines = parse_requirements(text, "requirements.txt", environment=LINUX)
    with pytest.raises(ConfigError, match=refusal):
        environment_pins(lines)
    gate = pins_from_requirements(
        [line for line in lines if not isinstance(line, IncludeEntry)], watched={canonicalize_name("einops")}
    )
    assert [str(pin) for pin in gate] == ["einops==0.8.0"]
    path = tmp_path / "requirements.txt"
    path.write_text(text, encoding="utf-8")
    assert [str(pin) for pin in read_candidates(path, watched={canonicalize_name("einops")}, environment=LINUX)] == [
        "einops==0.8.0"
    ]
