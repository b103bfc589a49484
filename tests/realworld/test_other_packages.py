"""Real regressions in packages other than x-transformers, bisected from their whole release history with no
hints, and the commits that broke and fixed them, from clones of their repositories.

Every boundary asserted here was verified by hand beforehand, release by release on PyPI and commit by commit
with ``git bisect run`` (Python 3.11); the case.toml of each case names them. Each test prints its probe count
and wall time (run with ``-s`` to see them).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness import process
from tests.realworld.conftest import CASE, RealProject, project_for

pytestmark = pytest.mark.realworld

INCOMPLETE = 3
"""bisect's exit status when a boundary was not pinned down (here: not fixed as of the newest release)."""


@dataclass(frozen=True)
class Verified:
    case_id: str
    package: str
    recorded: str
    last_good: str
    first_bad: str
    last_bad: str
    first_fixed: str | None


PACKAGING = Verified(
    "packaging-774-platform-release-invalidversion", "packaging", "24.2", "21.3", "22.0", "25.0", "26.0"
)
PYPARSING = Verified("pyparsing-618-word-copy-re_match", "pyparsing", "3.2.4", "3.2.3", "3.2.4", "3.2.4", "3.2.5")
DATEUTIL = Verified(
    "dateutil-203-comma-time-unknown-format", "python-dateutil", "2.8.2", "2.4.2", "2.5.0", "4.0.0", None
)
FAKER = Verified("faker-2300-pyfloat-positive-max_value", "faker", "40.1.0", "19.9.0", "19.9.1", "40.1.2", "40.1.3")


@dataclass(frozen=True)
class Bisected:
    project: RealProject
    completed: process.Completed
    report: dict[str, Any]
    seconds: float

    @property
    def probes(self) -> int:
        return len(self.report["probes"])

    def windows(self) -> tuple[tuple[str | None, str | None], tuple[str | None, str | None]]:
        regression, fix = self.report["regression"], self.report["fix"]
        return (regression["last_good"], regression["first_bad"]), (fix["last_bad"], fix["first_fixed"])

    def commit(self, window: str) -> str | None:
        """The sha the commit phase named: ``commits`` holds the first bad one, ``fix_commits`` the first fixed."""
        found = self.report[window]["first_bad" if window == "commits" else "first_fixed"]
        return None if found is None else str(found["sha"])


def bisect(tmp_path: Path, case: Verified, *args: str, project: RealProject | None = None) -> Bisected:
    """``harness bisect`` of the case's package in a new project (or ``project``), its report and wall time."""
    if project is None:
        project = project_for(tmp_path, case.case_id)
        project.write_versions({case.package: [case.recorded]})
    started = time.monotonic()
    completed = project.harness("bisect", case.case_id, case.package, *args)
    seconds = time.monotonic() - started
    path = project.root / "reports" / "bisect" / f"{case.case_id}--{case.package}.json"
    assert path.is_file(), completed.output
    done = Bisected(project, completed, json.loads(path.read_text()), seconds)
    print(
        f"\n{case.case_id} {' '.join(args)}: {done.windows()} in {done.probes} probes over "
        f"{len(done.report['releases'])} releases, {seconds:.1f}s"
    )
    return done


@pytest.mark.parametrize("case", [PACKAGING, PYPARSING], ids=lambda case: case.package)
def test_release_boundaries_from_the_recorded_release(tmp_path: Path, case: Verified) -> None:
    done = bisect(tmp_path, case)
    assert done.completed.returncode == 0, done.completed.output
    assert done.windows() == ((case.last_good, case.first_bad), (case.last_bad, case.first_fixed))


def test_dateutil_bad_since_2_5_0_through_three_wordings_and_not_fixed(tmp_path: Path) -> None:
    done = bisect(tmp_path, DATEUTIL)
    # Open upstream: the fix search runs off the end of the list, so the bisection is incomplete by design.
    assert done.completed.returncode == INCOMPLETE, done.completed.output
    assert "not fixed as of the newest release 4.0.0" in done.completed.stderr
    assert done.windows() == ((DATEUTIL.last_good, DATEUTIL.first_bad), (DATEUTIL.last_bad, None))
    assert done.report["fix"]["status"] == "not_found"
    # The three wordings (2.5.0, 2.7.0 and 2.8.1 on) all matched the one signature: every bad probe reproduced.
    bad = {p["version"] for p in done.report["probes"] if p["outcome"].startswith("REPRODUCED")}
    assert bad >= {"2.5.0", "2.8.2", "4.0.0"}


EARLIER_FAKER = Verified(FAKER.case_id, FAKER.package, FAKER.recorded, "18.3.3", "18.3.4", "19.6.1", "19.6.2")
"""Faker's first bad window: #1826 broke it in 18.3.4, #1908 fixed it in 19.6.2, and its revert broke it again
in 19.9.1 (the window FAKER describes, holding the recorded 40.1.0, until #2302 in 40.1.3)."""


def test_faker_two_windows_a_stride_back_lands_on_the_earlier_start(tmp_path: Path) -> None:
    """From the recorded 40.1.0 alone, the regression search strides back 1, 2, 4, ... 128 releases (all bad,
    down to 22.2.0), then 256 (12.1.0: the older ValueError, unusable, as is its neighbour and 0.0.2 at the end
    of the list). It bisects the rest of the list as a bracket: 16.9.0 passes, the midpoint 18.12.0 lies in the
    earlier window and reproduces, and halving goes on down to 18.3.3/18.3.4. That is a real good-to-bad step,
    the one a search assuming a single step is bound to find here: the five good releases 19.6.2-19.9.0 between
    the windows are never probed, since no midpoint falls on them. The fix search strides forward from 40.1.0
    and finds 40.1.3. Given 19.6.2 as good, the same bisection finds the current window exactly."""
    done = bisect(tmp_path, FAKER)
    assert done.completed.returncode == 0, done.completed.output
    releases = len(done.report["releases"])
    assert releases > 500
    assert done.windows() == ((EARLIER_FAKER.last_good, EARLIER_FAKER.first_bad), (FAKER.last_bad, FAKER.first_fixed))
    probed = {probe["version"] for probe in done.report["probes"]}
    assert probed.isdisjoint({"19.6.2", "19.7.0", "19.8.0", "19.8.1", "19.9.0"})
    assert done.probes <= 4 * math.ceil(math.log2(releases))  # O(log N) over the whole history

    hinted = bisect(tmp_path, FAKER, "--good", "19.6.2", project=done.project)
    assert hinted.completed.returncode == 0, hinted.completed.output
    assert hinted.windows() == ((FAKER.last_good, FAKER.first_bad), (FAKER.last_bad, FAKER.first_fixed))
    assert hinted.report["known_bad_range"] == ">=19.9.1,<40.1.3"


@dataclass(frozen=True)
class VerifiedCommits:
    case: Verified
    mirror: str
    first_bad: str
    first_fixed: str
    tags: tuple[tuple[str, str], ...] = ()
    """Tags to add to the clone, (name, sha), where the mirror lacks the release tags."""


PACKAGING_COMMITS = VerifiedCommits(
    PACKAGING, "pypa+packaging", "237ff3aa348486cf835a980592af3a59fccd6101", "9983e4bcc1be25eb21e0140d0905f02c6c68fad9"
)
PYPARSING_COMMITS = VerifiedCommits(
    PYPARSING,
    "pyparsing+pyparsing",
    "5554fbfed81ccd8919075f23bc82ea8485014d6d",
    "f5bdb2deff92859e068937f2ae502136b38ad16f",
    # The mirror has no tags after 3.1.2 and pyparsing keeps its version outside pyproject.toml, so the release
    # commits are tagged here: each the commit whose package tree is byte for byte that release's wheel.
    tags=(
        ("3.2.3", "4dace945ce8cd7211c5d935b6d7be21c86cad8da"),
        ("3.2.4", "57923cd6a651d81c72b4e60b2baa02fbedf217ba"),
        ("3.2.5", "dbbd53ad1cd0ab31ae2a8fee5a64a718788b63fb"),
    ),
)


@pytest.mark.parametrize("verified", [PACKAGING_COMMITS, PYPARSING_COMMITS], ids=lambda v: v.case.package)
def test_first_bad_and_first_fixing_commit(
    tmp_path: Path, mirror_clone: Callable[[str], Path], verified: VerifiedCommits
) -> None:
    clone = mirror_clone(verified.mirror)
    for tag, sha in verified.tags:
        assert process.run(["git", "-C", str(clone), "tag", "-f", tag, sha]).ok
    case = verified.case
    done = bisect(tmp_path, case, "--git-repo", str(clone))
    assert done.completed.returncode == 0, done.completed.output
    assert done.windows() == ((case.last_good, case.first_bad), (case.last_bad, case.first_fixed))
    assert (done.commit("commits"), done.commit("fix_commits")) == (verified.first_bad, verified.first_fixed)
    print(f"commits probed: {len(done.report['commits']['probes'])} + {len(done.report['fix_commits']['probes'])}")


def test_seed_case_first_bad_and_first_fixing_commit(tmp_path: Path, mirror_clone: Callable[[str], Path]) -> None:
    clone = mirror_clone("lucidrains+x-transformers")
    project = project_for(tmp_path, CASE)
    project.write_versions({"x-transformers": ["1.42.21"], "einops": ["0.8.0"], "torch": ["2.13.0"]})
    started = time.monotonic()
    result = project.harness("bisect", CASE, "x-transformers", "--git-repo", str(clone), "--mode", "fork")
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.output
    report = json.loads((project.root / "reports" / "bisect" / f"{CASE}--x-transformers.json").read_text())
    regression, fix = report["commits"], report["fix_commits"]
    print(
        f"\n{CASE} --git-repo: {len(report['probes'])} release probes, "
        f"{len(regression['probes'])} + {len(fix['probes'])} commit probes, {seconds:.1f}s"
    )
    assert regression["first_bad"] == {
        "sha": "c493eb443bd47db66e774fc3724ba27cae114a37",
        "subject": "Support custom positions for rotary positional embedding (#301)",
    }
    assert fix["first_fixed"] == {
        "sha": "003275c607ca60b850bacd6b24d7d43e8b54dda9",
        "subject": "address https://github.com/lucidrains/x-transformers/issues/305",
    }
