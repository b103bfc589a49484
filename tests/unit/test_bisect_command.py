"""The bisect command's own decisions: the reproduce command, the exit status and the anchor's wording."""

from __future__ import annotations

import datetime
import shlex
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from harness.bisection.command import reproduce_command
from harness.bisection.options import BisectOptions
from harness.bisection.outcome_lines import exit_status
from harness.bisection.releases import BisectionReport, ReleaseProbe, run_bisection, verdict_text
from harness.model.case import Case, parse_case
from harness.model.outcome import Outcome

CASE: dict[str, Any] = {
    "id": "demo",
    "packages": ["fakepkg"],
    "parameters": {"n": 3},
    "signature": {"exception": "fakepkg.FakeError", "message_contains": ["n -> n 1"]},
    "recorded_environment": {"python": "3.11", "fakepkg": "1.5"},
}
RELEASES = tuple(Version(f"1.{minor}") for minor in range(10))
OPTIONS = BisectOptions(package=canonicalize_name("fakepkg"))


def case_in(directory: Path) -> Case:
    return parse_case(CASE, directory=directory, content_hash="0")


@pytest.mark.parametrize(
    ("folder", "selector"),
    [
        ("cases/demo", "demo"),
        ("elsewhere/my case", "elsewhere/my case"),
    ],
)
def test_reproduce_command_names_the_case_so_that_it_runs(tmp_path: Path, folder: str, selector: str) -> None:
    command = reproduce_command(case_in(tmp_path / folder), OPTIONS, tmp_path)
    assert shlex.split(command) == ["nox", "-s", "bisect", "--", selector, "fakepkg"]


def test_reproduce_command_for_a_case_outside_the_project_is_absolute(tmp_path: Path) -> None:
    outside = tmp_path / "other" / "demo"
    command = reproduce_command(case_in(outside), OPTIONS, tmp_path / "project")
    assert shlex.split(command)[4] == str(outside)


def bisect(table: str, **anchors: Version) -> BisectionReport:
    letters = {"P": Outcome.PASSED, "R": Outcome.REPRODUCED, "D": Outcome.DIFFERENT_ERROR}

    def probe(version: Version) -> ReleaseProbe:
        outcome = letters[table[RELEASES.index(version)]]
        detail = "ModuleNotFoundError: No module named 'packaging'" if outcome is Outcome.DIFFERENT_ERROR else ""
        return ReleaseProbe(version, outcome, detail=detail)

    return run_bisection(
        case_id="demo",
        package="fakepkg",
        releases=RELEASES,
        probe=probe,
        clock=lambda: datetime.datetime(2025, 1, 1, tzinfo=UTC),
        **anchors,  # type: ignore[arg-type]
    )


def test_both_boundaries_found_exits_0() -> None:
    assert exit_status(bisect("PPPRRRPPPP", recorded_bad=Version("1.4"))) == (0, "")


@pytest.mark.parametrize(
    ("table", "anchors", "fragment"),
    [
        # The recorded release cannot be probed: said as recorded, with the cause and the fix.
        ("PPPDDDPPPP", {"recorded_bad": Version("1.4")}, "1.4 was recorded as bad"),
        ("PPPDDDPPPP", {"recorded_bad": Version("1.4")}, "add 'packaging' to requirements"),
        ("PPPPPPPPPP", {"bad": Version("1.4")}, "1.4 was given as bad but is good"),
        ("PPPPPPPPPP", {"bad": Version("1.4")}, "give --bad V"),
        # Every release below is bad: nothing good to start from.
        ("RRRRRPPPPP", {"recorded_bad": Version("1.4")}, "give --good V"),
        # Ambiguous: unusable releases hide the step.
        ("PPDDRRPPPP", {"good": Version("1.0"), "bad": Version("1.5")}, "could not be tested"),
        # Never fixed: the fix search ran out of releases.
        ("PPPRRRRRRR", {"recorded_bad": Version("1.4")}, "fix: not fixed as of the newest release 1.9"),
    ],
)
def test_anything_short_of_two_boundaries_exits_3_with_one_line(
    table: str, anchors: dict[str, Version], fragment: str
) -> None:
    status, reason = exit_status(bisect(table, **anchors))
    assert status == 3
    assert fragment in reason and "\n" not in reason


def test_recorded_and_given_anchors_are_worded_apart() -> None:
    recorded = bisect("PPPDDDPPPP", recorded_bad=Version("1.4"))
    given = bisect("PPPDDDPPPP", bad=Version("1.4"))
    assert verdict_text(recorded, recorded.regression).startswith(
        "1.4 was recorded as bad (case.toml [recorded_environment]) but could not be probed (DIFFERENT_ERROR: "
    )
    assert verdict_text(given, given.regression).startswith("1.4 was given as bad but could not be probed")


def test_the_nox_bisect_session_keeps_the_exit_status() -> None:
    noxfile = (Path(__file__).resolve().parents[2] / "noxfile.py").read_text(encoding="utf-8")
    session = noxfile[noxfile.index("def bisect(") :].split("\n\n")[0]
    assert "keep_exit_status=True" in session
