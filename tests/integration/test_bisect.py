"""Bisection end to end, offline: ~30 fake releases on a local index, and the commit phase on a git repo."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pytest

from harness import process
from tests.integration.conftest import FakeProject, make_project

pytestmark = pytest.mark.integration

VERSIONS = tuple(f"1.{minor}" for minor in range(30))
BAD = tuple(f"1.{minor}" for minor in range(12, 20))


@pytest.fixture(scope="module")
def thirty(tmp_path_factory: pytest.TempPathFactory) -> FakeProject:
    project = make_project(
        tmp_path_factory.mktemp("thirty"),
        versions=VERSIONS,
        bad=BAD,
        hang=(),
        other_error=("1.25",),
        unresolvable=("1.5", "1.22"),
        recorded="1.15",
    )
    project.write_versions('[packages.fakepkg]\nversions = ["1.15"]\n[packages.fakedep]\nversions = ["2.0"]\n')
    return project


def test_finds_both_boundaries_from_the_recorded_bad_release(thirty: FakeProject) -> None:
    result = thirty.harness("bisect", "fake_case", "fakepkg")
    assert result.returncode == 0, result.output
    report = json.loads((thirty.root / "reports" / "bisect" / "fake_case--fakepkg.json").read_text())
    assert (report["regression"]["last_good"], report["regression"]["first_bad"]) == ("1.11", "1.12")
    assert (report["fix"]["last_bad"], report["fix"]["first_fixed"]) == ("1.19", "1.20")
    known_bad = json.loads((thirty.root / "reports" / "known-bad.json").read_text())
    assert [(r["package"], r["specifier"]) for r in known_bad["ranges"]] == [("fakepkg", ">=1.12,<1.20")]
    probes = report["probes"]
    skipped = sum(1 for p in probes if p["outcome"] not in ("REPRODUCED", "PASSED"))
    # Two searches, each within ceil(log2(N)) + 1 plus its strides and one probe per unusable release.
    assert len(probes) <= 2 * (math.ceil(math.log2(len(VERSIONS))) + 1) + 2 * math.ceil(math.log2(15)) + skipped
    assert "1.12" in (thirty.root / "reports" / "bisect" / "fake_case--fakepkg.md").read_text()

    again = thirty.harness("bisect", "fake_case", "fakepkg")
    assert again.returncode == 0
    assert f"{len(probes)} probes ({len(probes)} from stored records)" in again.stdout


def test_given_good_and_bad_with_unusable_releases_between(thirty: FakeProject) -> None:
    report_file = thirty.root / "reports" / "bisect" / "fake_case--fakepkg.json"
    # 1.5 (unresolvable) lies between the given ends: the answer is the true boundary, found from the ends.
    result = thirty.harness("bisect", "fake_case", "fakepkg", "--good", "1.4", "--bad", "1.13", "--fresh")
    assert result.returncode == 0, result.output
    report = json.loads(report_file.read_text())
    assert (report["regression"]["last_good"], report["regression"]["first_bad"]) == ("1.11", "1.12")
    assert (report["fix"]["last_bad"], report["fix"]["first_fixed"]) == ("1.19", "1.20")
    outcomes = {probe["version"]: probe["outcome"] for probe in report["probes"]}
    assert (outcomes["1.4"], outcomes["1.13"]) == ("PASSED", "REPRODUCED")

    # 1.29 passes, so it cannot serve as bad: the harness says so instead of guessing a boundary.
    result = thirty.harness("bisect", "fake_case", "fakepkg", "--good", "1.0", "--bad", "1.29", "--fresh")
    # 1.29 passes, so it cannot serve as bad: the harness says so instead of guessing, and exits 3.
    assert result.returncode == 3, result.output
    assert "1.29" in result.stdout
    assert "regression: 1.29 was given as bad but is good" in result.stderr
    report = json.loads(report_file.read_text())
    regression = report["regression"]
    assert (regression["status"], regression["invalid_anchor"]) == ("invalid_anchor", "1.29")
    assert (regression["last_good"], regression["first_bad"], report["fix"]) == (None, None, None)
    assert [(probe["version"], probe["outcome"]) for probe in report["probes"]] == [("1.29", "PASSED")]


def test_a_run_of_ten_unusable_releases_inside_the_bad_window_is_exact(tmp_path: Path) -> None:
    run = tuple(f"1.{minor}" for minor in range(8, 18))
    project = make_project(
        tmp_path / "run",
        versions=VERSIONS,
        bad=tuple(f"1.{minor}" for minor in range(5, 25)),
        hang=(),
        other_error=(),
        unresolvable=run,
        recorded="1.20",
    )
    project.write_versions('[packages.fakepkg]\nversions = ["1.20"]\n[packages.fakedep]\nversions = ["2.0"]\n')
    result = project.harness("bisect", "fake_case", "fakepkg")
    assert result.returncode == 0, result.output
    report = json.loads((project.root / "reports" / "bisect" / "fake_case--fakepkg.json").read_text())
    assert (report["regression"]["last_good"], report["regression"]["first_bad"]) == ("1.4", "1.5")
    assert (report["fix"]["last_bad"], report["fix"]["first_fixed"]) == ("1.24", "1.25")
    probes = report["probes"]
    unusable = sum(1 for p in probes if p["outcome"] == "UNRESOLVABLE")
    lg = math.ceil(math.log2(len(VERSIONS)))
    # The documented bounds: each search's anchor, strides and bisection, plus 2 * ceil(log2 N) + 3 for the run.
    assert len(probes) <= 2 * (1 + 2 * (lg + 1) + 1 + lg + 1) + (2 * lg + 3)
    assert unusable < len(run)  # the run is not walked release by release
    print(f"run of 10 unusable releases: {len(probes)} probes, {unusable} of them unusable")


def test_an_ambiguous_bisection_exits_3_and_says_why(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "ambiguous",
        versions=tuple(f"1.{minor}" for minor in range(12)),
        bad=tuple(f"1.{minor}" for minor in range(6, 10)),
        hang=(),
        other_error=(),
        unresolvable=("1.4", "1.5"),
        recorded="1.8",
    )
    project.write_versions('[packages.fakepkg]\nversions = ["1.8"]\n[packages.fakedep]\nversions = ["2.0"]\n')
    # The case given by a folder outside cases/: the report's command must name it so that it runs.
    elsewhere = project.root / "elsewhere" / "my case"
    shutil.copytree(project.root / "cases" / "fake_case", elsewhere)
    result = project.harness("bisect", str(elsewhere), "fakepkg")
    assert result.returncode == 3, result.output
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("harness:")]
    assert line.startswith(
        "harness: bisection incomplete (exit 3): regression: 2 releases below 1.6 could not be tested: UNRESOLVABLE"
    )
    assert line.endswith(
        "; hold other versions with --hold so these releases install, or use --git-repo to bisect commits"
    )
    assert "first bad is one of 3 releases (1.4, 1.5, 1.6); 2 could not be tested" in result.stdout
    report = json.loads((project.root / "reports" / "bisect" / "fake_case--fakepkg.json").read_text())
    assert report["regression"]["status"] == "ambiguous"
    assert report["regression"]["first_bad"] is None and report["regression"]["last_good"] is None
    assert sorted(item["version"] for item in report["regression"]["unusable"]) == ["1.4", "1.5"]
    known_bad = json.loads((project.root / "reports" / "known-bad.json").read_text())
    assert [(r["specifier"], r["uncertain"]) for r in known_bad["ranges"]] == [(">=1.6,<1.10", [">=1.4,<1.6"])]
    assert report["reproduce_command"] == "nox -s bisect -- 'elsewhere/my case' fakepkg"
    gate = project.harness("gate", "--static-only", "--candidate", "fakepkg==1.5")
    assert gate.returncode == 3, gate.output
    assert project.harness("gate", "--static-only", "--candidate", "fakepkg==1.7").returncode == 1


def test_unknown_release_is_a_one_line_error(thirty: FakeProject) -> None:
    result = thirty.harness("bisect", "fake_case", "fakepkg", "--good", "1.99")
    assert result.returncode == 2
    assert result.stderr.startswith("harness: error:") and result.stderr.count("\n") == 1


BACKEND = '''
"""A build backend in the tree itself, so uv can build this package with no network."""
import base64, hashlib, os, zipfile

NAME, VERSION = "fakepkg", open(os.path.join(os.path.dirname(__file__), "VERSION")).read().strip()


def _record(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = f"{NAME}-{VERSION}-py3-none-any.whl"
    info = f"{NAME}-{VERSION}.dist-info"
    files = {
        "fakepkg/__init__.py": open(os.path.join(os.path.dirname(__file__), "fakepkg.py"), "rb").read(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\\nName: {NAME}\\nVersion: {VERSION}\\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\\nGenerator: backend\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    records = [_record(p, d) for p, d in files.items()] + [f"{info}/RECORD,,"]
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as wheel:
        for path, data in files.items():
            wheel.writestr(path, data)
        wheel.writestr(f"{info}/RECORD", "\\n".join(records) + "\\n")
    return name


def get_requires_for_build_wheel(config_settings=None):
    return []
'''

GOOD_MODULE = "class FakeError(Exception):\n    pass\n\n\ndef compute(n):\n    return [[i] for i in range(n)]\n"
BAD_MODULE = GOOD_MODULE.replace(
    "    return [[i] for i in range(n)]",
    "    raise FakeError(f\"shape mismatch for pattern 'n -> n 1': got 2 dims (input shape (1, {n}))\")",
)


def git(repo: Path, *args: str) -> str:
    result = process.run(["git", "-C", repo, *args], timeout=60)
    assert result.ok, result.output
    return result.stdout.strip()


def commit(repo: Path, message: str, files: dict[str, str]) -> str:
    for name, text in files.items():
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


def test_commit_phase_names_the_first_bad_commit(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", hang=(), other_error=(), unresolvable=(), recorded="1.5")
    project.write_versions('[packages.fakepkg]\nversions = ["1.5"]\n[packages.fakedep]\nversions = ["2.0"]\n')
    repo = tmp_path / "fakepkg-src"
    repo.mkdir()
    git(repo, "init", "-q")
    pyproject = '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    commit(
        repo,
        "Release 1.3",
        {"pyproject.toml": pyproject, "backend.py": BACKEND, "VERSION": "1.3", "fakepkg.py": GOOD_MODULE},
    )
    git(repo, "tag", "v1.3")
    commit(repo, "Document compute()", {"README": "compute(n) returns n rows\n"})
    bad_sha = commit(repo, "Reshape positions before scaling", {"fakepkg.py": BAD_MODULE})
    commit(repo, "Tidy imports", {"README": "compute(n) returns n rows.\n"})
    commit(repo, "Release 1.4", {"VERSION": "1.4"})
    git(repo, "tag", "v1.4")

    result = project.harness("bisect", "fake_case", "fakepkg", "--git-repo", str(repo))
    assert result.returncode == 0, result.output
    assert f"first bad commit: {bad_sha[:12]} Reshape positions before scaling" in result.stdout, result.stderr
    report = json.loads((project.root / "reports" / "bisect" / "fake_case--fakepkg.json").read_text())
    assert report["commits"]["first_bad"] == {"sha": bad_sha, "subject": "Reshape positions before scaling"}
    assert git(repo, "status", "--porcelain") == ""  # the user's clone is untouched
    counted = re.search(r"(\d+) commit probes \(0 from stored records\)", result.stdout)
    assert counted is not None, result.stdout
    probes = int(counted.group(1))
    assert probes > 0

    # Commit probes are stored records like any other: a second run builds nothing and agrees.
    again = project.harness("bisect", "fake_case", "fakepkg", "--git-repo", str(repo))
    assert again.returncode == 0, again.output
    assert f"first bad commit: {bad_sha[:12]} Reshape positions before scaling" in again.stdout
    assert f"{probes} commit probes ({probes} from stored records)" in again.stdout
    assert git(repo, "status", "--porcelain") == ""
