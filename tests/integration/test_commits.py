"""The commit phase against a small real git repository whose history introduces and fixes a known bug."""

from __future__ import annotations

import math
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from harness.bisection.commit_phase import bisect_commit_windows, bisect_source_commits
from harness.bisection.commits import (
    Commit,
    bisect_commits,
    commits_between,
    release_commit,
)
from harness.bisection.driver import Answer, ProbeEvent, SearchHandler
from harness.bisection.options import BisectOptions
from harness.bisection.releases import BisectionReport, ReleaseProbe, run_bisection
from harness.bisection.report import commits_to_markdown, stored_bisection
from harness.bisection.search import Direction, SearchStatus
from harness.bisection.stored import bisection_from_json, bisection_to_json
from harness.environments.interface import BuildFailure, Environment, EnvironmentProvider, EnvironmentRequest
from harness.errors import SourceRepositoryError
from harness.model.case import Case, Parameters, RecordedEnvironment
from harness.model.outcome import Outcome, RunObservation
from harness.model.pins import Pin
from harness.model.probe_record import SourceTree
from harness.model.signature import RaisedError, Signature
from harness.probing.prober import Prober
from harness.probing.record_store import RecordStore
from harness.process import run
from harness.reports.html.commits import commit_windows
from harness.runners.interface import CaseRunner, RunResult
from harness.sources import PackageSources

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
]

CORE = "src/fakepkg/core.py"
GOOD_CODE = "def reshape(x):\n    return x\n"
BAD_CODE = "def reshape(x):\n    raise ValueError('BUG: n -> n 1')\n"

# (subject, files written, tag): the bug arrives in commit 5 and leaves in commit 9.
HISTORY: list[tuple[str, dict[str, str], str | None]] = [
    ("Initial package", {"pyproject.toml": "0.1.0", CORE: GOOD_CODE}, "v0.1.0"),
    ("Add helper module", {"src/fakepkg/helper.py": "HELP = 1\n"}, None),
    ("Release 0.2.0", {"pyproject.toml": "0.2.0"}, None),
    ("Refactor reshape internals", {CORE: GOOD_CODE + "# refactored\n"}, None),
    ("Add docs", {"README.md": "fakepkg\n"}, None),
    ("Use einops-style pattern in reshape", {CORE: BAD_CODE}, None),
    ("Tidy tests", {"tests/test_core.py": "def test(): pass\n"}, None),
    ("Release 0.3.0", {"pyproject.toml": "0.3.0"}, "0.3.0"),
    ("Speed up helper", {"src/fakepkg/helper.py": "HELP = 2\n"}, None),
    ("Fix reshape for 1-d input", {CORE: GOOD_CODE + "# fixed\n"}, None),
    ("Update changelog", {"CHANGELOG.md": "0.4.0: fix\n"}, None),
    ("Release 0.4.0", {"pyproject.toml": "0.4.0"}, "release-0.4.0"),
    ("Start 0.5.0.dev0", {"pyproject.toml": "0.5.0.dev0"}, None),
]


@dataclass(frozen=True)
class FakeRepo:
    path: Path
    shas: tuple[str, ...]

    def index(self, sha: str) -> int:
        return self.shas.index(sha)


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.invalid",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    done = run(["git", "-C", str(repo), *args], env=env, timeout=60)
    assert done.ok, done.output
    return done.stdout.strip()


def pyproject(version: str) -> str:
    return f'[project]\nname = "fakepkg"\nversion = "{version}"\ndependencies = ["einops>=0.6"]\n'


@pytest.fixture
def repo(tmp_path: Path) -> FakeRepo:
    path = tmp_path / "fakepkg"
    path.mkdir()
    git(path, "init", "--quiet", "--initial-branch=main")
    shas = []
    for subject, files, tag in HISTORY:
        for name, content in files.items():
            target = path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(pyproject(content) if name == "pyproject.toml" else content)
        git(path, "add", "--all")
        git(path, "commit", "--quiet", "-m", subject)
        shas.append(git(path, "rev-parse", "HEAD"))
        if tag is not None:
            git(path, "tag", tag)
    return FakeRepo(path, tuple(shas))


class SourceProbe:
    """Reads the checked-out tree instead of installing it; remembers what it saw."""

    def __init__(self, unusable: frozenset[str] = frozenset()) -> None:
        self.unusable = unusable
        self.calls: list[str] = []
        self.trees: list[Path] = []

    def __call__(self, tree: Path, sha: str) -> Answer:
        self.calls.append(sha)
        self.trees.append(tree)
        assert git(tree, "rev-parse", "HEAD") == sha
        if sha in self.unusable:
            return Answer(Outcome.INSTALL_FAILED)
        (tree / "build").mkdir(exist_ok=True)  # a build product the next checkout must not see
        return Answer(Outcome.REPRODUCED if "BUG" in (tree / CORE).read_text() else Outcome.PASSED)


def assert_clone_untouched(repo: FakeRepo) -> None:
    assert git(repo.path, "status", "--porcelain") == ""
    assert git(repo.path, "rev-parse", "HEAD") == repo.shas[-1]
    assert git(repo.path, "symbolic-ref", "--short", "HEAD") == "main"
    assert git(repo.path, "worktree", "list", "--porcelain").count("worktree ") == 1


def test_regression_finds_the_commit_that_introduced_the_bug(repo: FakeRepo) -> None:
    probe = SourceProbe()
    found = bisect_commits(repo.path, "0.2.0", "0.3.0", probe)

    assert found.result.status is SearchStatus.FOUND
    assert found.first_commit == Commit(repo.shas[5], "Use einops-style pattern in reshape")
    assert found.result.boundary == (repo.shas[4], repo.shas[5])
    assert [commit.sha for commit in found.commits] == list(repo.shas[2:8])
    assert [probe.commit.sha for probe in found.probes] == probe.calls
    # Commits 3..6 lie strictly between the release commits 2 and 7: N = 4 + 2.
    assert len(probe.calls) <= math.ceil(math.log2(6)) + 1
    assert all(not tree.exists() for tree in probe.trees)
    assert_clone_untouched(repo)


def test_fix_finds_the_commit_that_fixed_it(repo: FakeRepo) -> None:
    found = bisect_commits(repo.path, "0.3.0", "0.4.0", SourceProbe(), direction=Direction.FIX)
    assert found.first_commit == Commit(repo.shas[9], "Fix reshape for 1-d input")
    assert (found.result.last_bad, found.result.first_fixed) == (repo.shas[8], repo.shas[9])
    assert_clone_untouched(repo)


def test_unusable_commits_next_to_the_step_give_candidates(repo: FakeRepo) -> None:
    probe = SourceProbe(unusable=frozenset({repo.shas[5]}))
    found = bisect_commits(repo.path, "0.2.0", "0.3.0", probe)
    assert found.result.status is SearchStatus.AMBIGUOUS
    assert found.first_commit is None
    assert [commit.subject for commit in found.candidates] == ["Use einops-style pattern in reshape", "Tidy tests"]
    assert_clone_untouched(repo)


def test_known_outcomes_are_not_probed_and_ends_can_be_verified(repo: FakeRepo) -> None:
    probe = SourceProbe()
    known = {repo.shas[4]: Outcome.PASSED, repo.shas[5]: Outcome.REPRODUCED}
    found = bisect_commits(repo.path, "0.2.0", "0.3.0", probe, known=known)
    assert probe.calls == []
    assert found.first_commit is not None and found.first_commit.sha == repo.shas[5]

    verifying = SourceProbe()
    checked = bisect_commits(repo.path, "0.2.0", "0.3.0", verifying, known=known, verify_ends=True)
    assert set(verifying.calls) == {repo.shas[2], repo.shas[7]}
    assert checked.result == found.result


class Heard(SearchHandler[str]):
    def __init__(self) -> None:
        self.heard: list[tuple[str, int]] = []

    def probe_started(self, event: ProbeEvent[str]) -> None:
        self.heard.append((event.item, event.max_remaining))


def test_progress_hears_each_commit_before_its_probe(repo: FakeRepo) -> None:
    handler = Heard()
    heard = handler.heard
    probe = SourceProbe()
    bisect_commits(repo.path, "0.2.0", "0.3.0", probe, handler=handler)
    assert [sha for sha, _ in heard] == probe.calls
    assert all(left >= len(heard) - position for position, (_, left) in enumerate(heard))


@pytest.mark.parametrize(
    ("release", "commit_index"),
    [
        ("0.1.0", 0),  # tag v0.1.0
        ("0.2.0", 2),  # no tag: the commit that sets it in pyproject.toml
        ("0.2", 2),  # the same version spelled differently
        ("0.3.0", 7),  # tag 0.3.0
        ("0.4.0", 11),  # tag release-0.4.0
        ("0.5.0.dev0", 12),
    ],
)
def test_release_commit(repo: FakeRepo, release: str, commit_index: int) -> None:
    assert release_commit(repo.path, release) == repo.shas[commit_index]


def test_commits_between_first_parent_on_a_linear_history(repo: FakeRepo) -> None:
    plain = commits_between(repo.path, repo.shas[2], repo.shas[7])
    first_parent = commits_between(repo.path, repo.shas[2], repo.shas[7], first_parent=True)
    assert plain == first_parent
    assert [commit.subject for commit in plain] == [subject for subject, _, _ in HISTORY[3:8]]


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(SourceRepositoryError, match="is not a git repository; clone"):
        bisect_commits(tmp_path, "0.1.0", "0.2.0", SourceProbe())
    with pytest.raises(SourceRepositoryError, match="no such directory"):
        bisect_commits(tmp_path / "missing", "0.1.0", "0.2.0", SourceProbe())


def test_unknown_release(repo: FakeRepo) -> None:
    with pytest.raises(SourceRepositoryError, match=r"release 9\.9\.9 not found .*no tag v9\.9\.9") as raised:
        bisect_commits(repo.path, "0.2.0", "9.9.9", SourceProbe())
    assert "\n" not in str(raised.value)


def test_releases_in_the_wrong_order(repo: FakeRepo) -> None:
    with pytest.raises(SourceRepositoryError, match="is not an ancestor of"):
        bisect_commits(repo.path, "0.3.0", "0.2.0", SourceProbe())


def test_shallow_clone_hint(repo: FakeRepo, tmp_path: Path) -> None:
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "--quiet", "--depth", "1", f"file://{repo.path}", str(shallow))
    with pytest.raises(SourceRepositoryError, match="shallow; run git fetch --unshallow --tags"):
        release_commit(shallow, "0.2.0")


# --- commit probes through the prober: stored records like any other probe -------------------------------------


class TreeProvider(EnvironmentProvider):
    """Builds nothing: the "environment" is the checked-out tree itself, which TreeRunner reads."""

    def __init__(self) -> None:
        self.built: list[str] = []

    def prepare(self, request: EnvironmentRequest, *, fresh: bool = False) -> Environment | BuildFailure:
        tree = request.source_tree
        assert tree is not None and tree.package == "fakepkg"
        assert git(tree.path, "rev-parse", "HEAD") == tree.revision  # the tree holds the commit asked for
        self.built.append(tree.revision)
        return Environment(
            environment_id=tree.revision[:16],
            location=tree.path,
            python_executable=Path(sys.executable),
            resolved=request.pins,
            resolve_seconds=0.0,
            install_seconds=0.0,
            lock_reused=False,
            environment_reused=False,
        )

    def lock(self, request: EnvironmentRequest, *, fresh: bool = False) -> list[tuple[str, str, str]] | BuildFailure:
        raise AssertionError("a commit probe locks nothing apart from building")


class TreeRunner(CaseRunner):
    def run(self, environment: Environment, case: Case, parameters: Parameters, *, run_index: int = 0) -> RunResult:
        buggy = "BUG" in (environment.location / CORE).read_text()
        error = RaisedError("ValueError", "BUG: n -> n 1") if buggy else None
        return RunResult(RunObservation(0, False, True, error), seconds=0.5)


SOURCE_CASE = Case(
    id="reshape",
    title="reshape",
    directory=Path("/cases/reshape"),
    packages=(canonicalize_name("fakepkg"),),
    parameters=(),
    signature=Signature("ValueError", ("BUG",)),
    recorded=RecordedEnvironment("3.11", (Pin.of("fakepkg", "0.3.0"), Pin.of("einops", "0.8.0"))),
    timeout_seconds=10,
    content_hash="c1",
)


def release_report() -> BisectionReport:
    """A release bisection that found 0.2.0 good and 0.3.0 bad, as the commit phase receives it."""
    good, bad = Version("0.2.0"), Version("0.3.0")
    return run_bisection(
        case_id=SOURCE_CASE.id,
        package="fakepkg",
        releases=(good, bad),
        probe=lambda version: ReleaseProbe(version, Outcome.PASSED if version == good else Outcome.REPRODUCED),
        good=good,
        bad=bad,
    )


def test_a_second_commit_bisection_is_answered_from_stored_records(repo: FakeRepo, tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "records")
    options = BisectOptions(package=canonicalize_name("fakepkg"))

    def bisect_once() -> tuple[list[str], SearchStatus, str | None, list[bool]]:
        provider = TreeProvider()
        with Prober(provider, TreeRunner(), store, python="3.11", sources=PackageSources()) as prober:
            found = bisect_source_commits(SOURCE_CASE, prober, repo.path, release_report(), options)
        assert found is not None and found.first_commit is not None
        return provider.built, found.result.status, found.first_commit.sha, [probe.reused for probe in found.probes]

    built, status, first_bad, reused = bisect_once()
    assert (status, first_bad) == (SearchStatus.FOUND, repo.shas[5])
    assert built and reused == [False] * len(built)
    # Every commit probe is in the store, keyed by its commit, beside the held pins (the package is the tree).
    stored = list(store.records(SOURCE_CASE.id))
    assert sorted(record.request.source.commit for record in stored if record.request.source) == sorted(built)
    assert {record.request.source for record in stored} == {SourceTree("fakepkg", sha) for sha in built}
    assert all(record.request.pins == (Pin.of("einops", "0.8.0"),) for record in stored)
    assert len({record.key for record in stored}) == len(built)

    again_built, again_status, again_first_bad, again_reused = bisect_once()
    assert again_built == []  # nothing built: every commit answered from its record
    assert (again_status, again_first_bad) == (status, first_bad)
    assert again_reused == [True] * len(built)
    assert_clone_untouched(repo)


def both_windows_report() -> BisectionReport:
    """A release bisection over 0.2.0 (good), 0.3.0 (bad), 0.4.0 (fixed)."""
    good, bad, fixed = Version("0.2.0"), Version("0.3.0"), Version("0.4.0")
    return run_bisection(
        case_id=SOURCE_CASE.id,
        package="fakepkg",
        releases=(good, bad, fixed),
        probe=lambda version: ReleaseProbe(version, Outcome.REPRODUCED if version == bad else Outcome.PASSED),
        good=good,
        bad=bad,
    )


def test_the_commit_phase_finds_the_first_bad_and_the_first_fixed_commit(repo: FakeRepo, tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "records")
    options = BisectOptions(package=canonicalize_name("fakepkg"))
    with Prober(TreeProvider(), TreeRunner(), store, python="3.11", sources=PackageSources()) as prober:
        windows = bisect_commit_windows(SOURCE_CASE, prober, repo.path, both_windows_report(), options)
    assert windows.regression is not None and windows.fix is not None
    assert windows.regression.first_commit == Commit(repo.shas[5], "Use einops-style pattern in reshape")
    assert windows.fix.first_commit == Commit(repo.shas[9], "Fix reshape for 1-d input")
    assert windows.fix.direction is Direction.FIX
    assert windows.regression.first_parent and windows.fix.first_parent
    assert windows.fix.first_commit.authored[:4].isdigit()  # the author date, as git wrote it

    stored = stored_bisection(
        both_windows_report(),
        repository_url="https://github.com/example/fakepkg",
        commits=windows.regression,
        fix_commits=windows.fix,
    )
    data = bisection_to_json(stored)
    assert data["commits"]["first_bad"]["sha"] == repo.shas[5]
    assert data["fix_commits"]["direction"] == "fix"
    assert data["fix_commits"]["urls"][repo.shas[9]] == f"https://github.com/example/fakepkg/commit/{repo.shas[9]}"
    assert data["fix_commits"]["first_fixed"] == {"sha": repo.shas[9], "subject": "Fix reshape for 1-d input"}
    assert bisection_from_json(data) == stored
    markdown = commits_to_markdown(windows.fix, repository_url="https://github.com/example/fakepkg")
    assert f"First fixed commit: [`{repo.shas[9][:12]}`]" in markdown and "first-parent" in markdown
    html = commit_windows(stored)
    assert "First bad commit" in html and "First fixed commit" in html
    assert f'href="https://github.com/example/fakepkg/commit/{repo.shas[9]}"' in html


def test_first_parent_steps_over_a_merged_branch_and_all_commits_goes_inside(repo: FakeRepo) -> None:
    path = repo.path
    git(path, "checkout", "--quiet", "-b", "topic", repo.shas[7])
    (path / "topic.txt").write_text("topic\n")
    git(path, "add", "--all")
    git(path, "commit", "--quiet", "-m", "Topic work")
    topic = git(path, "rev-parse", "HEAD")
    git(path, "checkout", "--quiet", "main")
    git(path, "merge", "--quiet", "--no-ff", "-m", "Merge topic", "topic")
    merge = git(path, "rev-parse", "HEAD")
    plain = [c.sha for c in commits_between(path, repo.shas[7], merge)]
    first_parent = [c.sha for c in commits_between(path, repo.shas[7], merge, first_parent=True)]
    assert topic in plain and topic not in first_parent
    assert first_parent[-1] == merge
