"""The real repro pipeline, offline: uv builds environments from a local index of fake wheels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from tests.integration.conftest import FakeProject

pytestmark = pytest.mark.integration

EVERY_VERSION = '[packages.fakepkg]\nrange = ">=1.0"\n\n[packages.fakedep]\nversions = ["2.0"]\n'


def records(project: FakeProject) -> list[dict[str, Any]]:
    folder = project.root / "reports" / "records" / "fake_case"
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def outcome_by_version(project: FakeProject) -> dict[str, str]:
    found = {}
    for record in records(project):
        requested = record["requested"]
        if requested.get("fakedep") == "2.0" and not record["forced"]:
            found[requested["fakepkg"]] = str(record["outcome"])
    return found


def test_every_outcome_class_is_recorded_and_summarized(fake_project: FakeProject) -> None:
    fake_project.write_versions(EVERY_VERSION)
    result = fake_project.harness("repro", "--jobs", "2")
    assert result.returncode == 0, result.output
    expected = {str(v): fake_project.package.expected_outcome(v).value for v in fake_project.package.versions}
    assert outcome_by_version(fake_project) == expected
    assert {"REPRODUCED", "PASSED", "DIFFERENT_ERROR", "UNRESOLVABLE", "TIMEOUT"} <= set(expected.values())

    reproduced = next(r for r in records(fake_project) if r["outcome"] == "REPRODUCED")
    assert reproduced["resolved"] == {"fakedep": "2.0", "fakepkg": reproduced["requested"]["fakepkg"]}
    assert reproduced["error"]["type"] == "fakepkg.FakeError"
    assert "FakeError" in reproduced["error"]["traceback_tail"]
    assert reproduced["python_full"] and reproduced["platform"]
    assert set(reproduced["timings"]) == {"resolve", "install", "run"}
    unresolvable = next(r for r in records(fake_project) if r["outcome"] == "UNRESOLVABLE")
    assert "fakedep>=9" in str(unresolvable["installer_message"])

    summary = json.loads((fake_project.root / "reports" / "fake_case" / "summary.json").read_text())
    assert summary["counts"]["REPRODUCED"] == 3
    markdown = (fake_project.root / "reports" / "fake_case" / "summary.md").read_text()
    assert "| 1.5 | **REPRODUCED** |" in markdown
    assert "TIMEOUT [" in markdown  # every unusable cell is explained in a numbered note
    assert (fake_project.root / "reports" / "index.html").is_file()

    again = fake_project.harness("repro")
    assert again.returncode == 0
    assert "(10 from stored records)" in again.stdout


def test_unresolvable_combination_and_forcing_it(fake_project: FakeProject) -> None:
    fake_project.write_versions('[packages.fakepkg]\nversions = ["1.5"]\n[packages.fakedep]\nversions = ["1.0"]\n')
    assert fake_project.harness("repro").returncode == 0
    forced = fake_project.harness("repro", "--force")
    assert forced.returncode == 0, forced.output
    by_forced = {
        bool(r["forced"]): r["outcome"]
        for r in records(fake_project)
        if r["requested"] == {"fakepkg": "1.5", "fakedep": "1.0"}
    }
    assert by_forced == {False: "UNRESOLVABLE", True: "REPRODUCED"}


@pytest.mark.parametrize(
    ("versions_toml", "message"),
    [
        ('[packages.fakepkg]\nversions = ["1.42"]\n', "fakepkg 1.42 is not a release on the index; nearest: "),
        ("[packages.fakepkg]\nversions = 1.4\n", "field 'packages.fakepkg.versions': expected a list"),
        ("[packages.fakepkg\n", "not valid TOML"),
        ('[packages.nopkg]\nversions = ["1.0"]\n', "nopkg is not a package"),
    ],
)
def test_bad_versions_toml_is_one_line_exit_2(fake_project: FakeProject, versions_toml: str, message: str) -> None:
    fake_project.write_versions(versions_toml)
    result = fake_project.harness("repro")
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr  # one line, no traceback


def test_nox_lists_one_session_per_combination_and_runs_one_by_name(fake_project: FakeProject) -> None:
    fake_project.write_versions(
        '[packages.fakepkg]\nversions = ["1.3", "1.4"]\n[packages.fakedep]\nversions = ["2.0"]\n'
    )
    for path in (fake_project.root / "reports" / "records" / "fake_case").glob("*.json"):
        if '"fakepkg": "1.3"' in path.read_text():
            path.unlink()  # an earlier test's record would time 1.3, which this test expects untimed
    listing = fake_project.nox("-l", "--json")
    assert listing.returncode == 0, listing.output
    names = [s["session"] for s in json.loads(listing.stdout) if s["name"] == "repro"]
    assert names == ["repro(fakepkg==1.3,fakedep==2.0)", "repro(fakepkg==1.4,fakedep==2.0)"]
    run = fake_project.nox("-s", names[1], "--", "--fresh")
    assert run.returncode == 0, run.output
    assert "REPRODUCED" in run.output
    # The listing carries each session's cost: timed by the stored record, else the median of the timed ones.
    costs = {s["session"]: s["call_spec"]["cost"] for s in json.loads(fake_project.nox("-l", "--json").stdout)}
    (record,) = [r for r in records(fake_project) if r["requested"] == {"fakepkg": "1.4", "fakedep": "2.0"}]
    timed = sum(record["timings"].values())
    assert costs[names[1]] == {"seconds": round(timed, 3), "known": True}
    assert costs[names[0]]["known"] is False

    fake_project.write_versions("[packages.fakepkg]\nversions = 1\n")
    broken = fake_project.nox("-s", "repro")
    assert broken.returncode != 0
    assert "field 'packages.fakepkg.versions'" in broken.output
    assert "Traceback" not in broken.output


def test_nox_repro_writes_records_per_session_and_the_report_once(fake_project: FakeProject) -> None:
    fake_project.write_versions(
        '[packages.fakepkg]\nversions = ["1.3", "1.4", "1.5"]\n[packages.fakedep]\nversions = ["2.0"]\n'
    )
    summary = fake_project.root / "reports" / "fake_case" / "summary.json"
    summary.unlink(missing_ok=True)
    run = fake_project.nox("-s", "repro")
    assert run.returncode == 0, run.output
    assert run.output.count("Running session repro(") == 3
    assert run.output.count("records in ") == 3  # each repro session writes records only
    assert run.output.count("Running session report") == 1
    # The report runs last, after every repro session.
    assert run.output.rindex("Running session repro(") < run.output.index("Running session report")
    counts = json.loads(summary.read_text())["counts"]
    assert counts["REPRODUCED"] >= 1 and counts["PASSED"] >= 1
    assert (fake_project.root / "reports" / "index.html").is_file()


def test_fork_mode_gives_the_outcomes_of_isolated_mode(tmp_path: Path) -> None:
    from tests.integration.conftest import make_project  # noqa: PLC0415

    project = make_project(tmp_path, hang=(), unresolvable=(), crash=("1.9",))
    project.write_versions(EVERY_VERSION)
    isolated = project.harness("repro", "--mode", "isolated")
    assert isolated.returncode == 0, isolated.output
    expected = outcome_by_version(project)
    forked = project.harness("repro", "--mode", "fork", "--preload", "fakedep", "--fresh")
    assert forked.returncode == 0, forked.output
    assert outcome_by_version(project) == expected
    modes = {str(r["mode"]) for r in records(project)}
    assert modes == {"fork", "isolated"}  # the first probe teaches the imports; the rest fork
    assert expected[str(Version("1.9"))] == "CRASHED"


def test_a_package_can_come_from_its_own_index(tmp_path: Path) -> None:
    from tests.fakeindex import make_fake_dependency, write_simple_index  # noqa: PLC0415
    from tests.integration.conftest import make_project  # noqa: PLC0415

    project = make_project(tmp_path / "p", hang=(), unresolvable=())
    # fakedep 3.0 exists only on a second index, as a CPU build of torch exists only on PyTorch's index.
    make_fake_dependency(tmp_path / "other-wheels", versions=("3.0",))
    other_url = write_simple_index(tmp_path / "other-wheels", tmp_path / "other-simple")
    project.write_versions(
        f'[packages.fakepkg]\nversions = ["1.3"]\n[packages.fakedep]\nversions = ["3.0"]\nindex = "{other_url}"\n'
    )
    result = project.harness("repro")
    assert result.returncode == 0, result.output
    (record,) = records(project)
    assert record["resolved"] == {"fakedep": "3.0", "fakepkg": "1.3"}
    assert record["outcome"] == "PASSED"
    assert record["sources"]["package_indexes"] == {"fakedep": other_url}


def test_the_sessions_of_one_nox_run_share_their_fork_workers(tmp_path: Path) -> None:
    from tests.integration.conftest import make_project  # noqa: PLC0415

    project = make_project(tmp_path, hang=(), unresolvable=())
    project.write_versions(
        '[packages.fakepkg]\nversions = ["1.3", "1.4", "1.5"]\n[packages.fakedep]\nversions = ["2.0"]\n'
    )
    run = project.nox("-s", "repro", "--", "--preload", "fakedep")
    assert run.returncode == 0, run.output
    assert run.output.count("Running session repro(") == 3
    # Only the very first probe of the run teaches the imports in a fresh interpreter; the next sessions fork
    # from the worker it left running. A worker per session would have run every probe isolated.
    assert sorted(str(r["mode"]) for r in records(project)) == ["fork", "fork", "isolated"]
    assert {r["requested"]["fakepkg"]: r["outcome"] for r in records(project)} == {
        "1.3": "PASSED",
        "1.4": "REPRODUCED",
        "1.5": "REPRODUCED",
    }


RENDEZVOUS_REPLAY = """
import pathlib
import time

import fakepkg

MEETING = pathlib.Path({meeting!r})


def replay(n: int = 3) -> None:
    # Each probe leaves its mark, then waits for another probe's: it goes on only if two run at once.
    MEETING.mkdir(exist_ok=True)
    (MEETING / fakepkg.__version__).touch()
    deadline = time.monotonic() + 30
    while len(list(MEETING.iterdir())) < 2:
        if time.monotonic() > deadline:
            raise TimeoutError("no other probe ran beside this one")
        time.sleep(0.05)
    assert fakepkg.compute(n) == [[i] for i in range(n)]
"""


def test_the_next_session_probes_while_the_current_one_waits(tmp_path: Path) -> None:
    from tests.integration.conftest import make_project  # noqa: PLC0415

    project = make_project(tmp_path, hang=(), unresolvable=(), timeout=60)
    replay = project.root / "cases" / "fake_case" / "replay.py"
    replay.write_text(RENDEZVOUS_REPLAY.format(meeting=str(tmp_path / "meeting")), encoding="utf-8")
    project.write_versions('[packages.fakepkg]\nversions = ["1.3", "1.4"]\n[packages.fakedep]\nversions = ["2.0"]\n')

    run = project.nox("-s", "repro", "--", "--jobs", "2", "--mode", "isolated")

    assert run.returncode == 0, run.output
    # Nox runs the two sessions one after another; each probe met the other, so the second session's probe
    # ran while the first session waited for its own. Serially, both would have timed out waiting.
    assert {r["requested"]["fakepkg"]: r["outcome"] for r in records(project)} == {
        "1.3": "PASSED",
        "1.4": "REPRODUCED",
    }
    assert run.output.count("[1/1] ") == 2  # each session reports its own probe, once


def test_probes_of_one_case_in_parallel_learn_its_imports_once(tmp_path: Path) -> None:
    from tests.integration.conftest import make_project  # noqa: PLC0415

    project = make_project(tmp_path, hang=(), unresolvable=())
    project.write_versions(
        '[packages.fakepkg]\nversions = ["1.2", "1.3", "1.4", "1.5"]\n[packages.fakedep]\nversions = ["2.0"]\n'
    )
    run = project.harness("repro", "--jobs", "2", "--mode", "fork", "--preload", "fakedep")
    assert run.returncode == 0, run.output
    # The second thread waits for the first probe's imports instead of running isolated too.
    assert sorted(str(r["mode"]) for r in records(project)) == ["fork", "fork", "fork", "isolated"]


def test_a_later_run_forks_its_first_probe_with_the_imports_an_earlier_run_learnt(tmp_path: Path) -> None:
    from tests.integration.conftest import make_project  # noqa: PLC0415

    project = make_project(tmp_path, hang=(), unresolvable=())
    project.write_versions('[packages.fakepkg]\nversions = ["1.3", "1.4"]\n[packages.fakedep]\nversions = ["2.0"]\n')
    fork = ("repro", "--mode", "fork", "--preload", "fakedep", "--jobs", "1", "--fresh")

    first = project.harness(*fork)
    assert first.returncode == 0, first.output
    assert sorted(str(r["mode"]) for r in records(project)) == ["fork", "isolated"]
    (original_hash,) = {r["case_hash"] for r in records(project)}
    second = project.harness(*fork)
    assert second.returncode == 0, second.output
    assert sorted(str(r["mode"]) for r in records(project)) == ["fork", "fork"]

    # An edited case may import other modules: its first probe teaches them again.
    replay = project.root / "cases" / "fake_case" / "replay.py"
    replay.write_text(replay.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    third = project.harness(*fork)
    assert third.returncode == 0, third.output
    edited = [str(r["mode"]) for r in records(project) if r["case_hash"] != original_hash]
    assert sorted(edited) == ["fork", "isolated"]
