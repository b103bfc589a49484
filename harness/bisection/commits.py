"""The commit phase: map two boundary releases to commits of a local clone and bisect the commits between.

Each commit is checked out into a temporary ``git worktree``, so the user's clone (its checkout, its
index, its untracked files) is never touched; the worktree is removed afterwards, even on error.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import InvalidVersion, Version

from harness.bisection.driver import ProbeAnswer, SearchHandler, run_search
from harness.bisection.search import (
    BisectVerdict,
    Direction,
    SearchResult,
    SearchStatus,
    TransitionSearch,
    VerdictPolicy,
)
from harness.errors import SourceRepositoryError
from harness.model.outcome import Outcome
from harness.process import Completed, run

GIT_TIMEOUT_SECONDS = 300.0
VERSION_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
"""Where a release's version is looked for when no tag names it (at the repository root)."""

_VERSION_PATTERNS = {
    "pyproject.toml": re.compile(r"""^\s*version\s*=\s*["']([^"']+)["']""", re.MULTILINE),
    "setup.py": re.compile(r"""\bversion\s*=\s*["']([^"']+)["']"""),
    "setup.cfg": re.compile(r"^\s*version\s*=\s*(\S+)\s*$", re.MULTILINE),
}


@dataclass(frozen=True)
class Commit:
    sha: str
    subject: str
    authored: str = field(default="", compare=False)
    """The author date, ISO 8601 as git writes it (``%aI``); shown, never part of a commit's identity."""

    def __str__(self) -> str:
        return f"{self.sha[:12]} {self.subject}"


@dataclass(frozen=True)
class CommitProbe:
    commit: Commit
    outcome: Outcome
    verdict: BisectVerdict
    reused: bool = False
    """The outcome came from a stored record of an earlier run at this commit."""


@dataclass(frozen=True)
class CommitBisection:
    """The commits between two releases and where among them the step lies."""

    direction: Direction
    before_release: str
    """The last release before the step (last good for a regression, last bad for a fix)."""
    after_release: str
    commits: tuple[Commit, ...]
    """The ``before_release`` commit, then every commit after it up to the ``after_release`` commit, oldest first."""
    result: SearchResult[str]
    """The search result over commit shas."""
    probes: tuple[CommitProbe, ...]
    """Every commit probed, in order (outcomes supplied up front are not repeated here)."""
    first_parent: bool = False
    """Only the first-parent line was bisected: a merge counts as one step, its branch's commits unseen."""

    @property
    def first_commit(self) -> Commit | None:
        """The first commit after the step (the first bad one, or the fixing one), when skips left no doubt."""
        return self.commit(self.result.after) if self.result.status is SearchStatus.FOUND else None

    @property
    def candidates(self) -> tuple[Commit, ...]:
        """When skipped commits hide the step: every commit that may be the first after it."""
        return tuple(commit for commit in self.commits if commit.sha in self.result.candidates)

    def commit(self, sha: str | None) -> Commit | None:
        return next((commit for commit in self.commits if commit.sha == sha), None)


ProbeSource = Callable[[Path, str], ProbeAnswer]
"""Runs the case against the package built from a checked-out tree: (worktree path, full sha) -> what it found."""


def bisect_commits(
    repository: Path,
    before_release: str | Version,
    after_release: str | Version,
    probe_source: ProbeSource,
    *,
    direction: Direction = Direction.REGRESSION,
    policy: VerdictPolicy | None = None,
    known: Mapping[str, Outcome] | None = None,
    first_parent: bool = False,
    verify_ends: bool = False,
    handler: SearchHandler[str] | None = None,
) -> CommitBisection:
    """Find the commit between two adjacent boundary releases where the case starts (or stops) reproducing.

    The release commits are taken as known on their sides (the release bisection established them) unless
    ``verify_ends``. ``known`` maps full shas to outcomes from earlier runs; those commits are not probed
    again. ``handler`` hears about each probe (its items are full shas) as it starts and ends.
    """
    policy = policy or VerdictPolicy()
    repository = check_repository(repository)
    before_sha = release_commit(repository, before_release)
    after_sha = release_commit(repository, after_release)
    if before_sha == after_sha:
        raise SourceRepositoryError(
            f"releases {before_release} and {after_release} map to the same commit {before_sha[:12]}; nothing to bisect"
        )
    between = commits_between(
        repository, before_sha, after_sha, first_parent=first_parent, labels=(str(before_release), str(after_release))
    )
    commits = (_commit(repository, before_sha), *between)
    verdicts = {sha: policy.verdict(outcome) for sha, outcome in (known or {}).items()}
    if not verify_ends:
        verdicts.setdefault(before_sha, direction.before)
        verdicts.setdefault(after_sha, direction.after)
    search = TransitionSearch.start(
        [commit.sha for commit in commits], direction, low=before_sha, high=after_sha, known=verdicts
    )
    by_sha = {commit.sha: commit for commit in commits}
    with contextlib.ExitStack() as cleanup:
        worktrees: list[Path] = []

        def probe(sha: str) -> ProbeAnswer:
            # The worktree is made at the first probe: a search the known outcomes settle needs none.
            if not worktrees:
                worktrees.append(cleanup.enter_context(scratch_worktree(repository, sha)))
            _checkout(worktrees[0], sha)
            return probe_source(worktrees[0], sha)

        run = run_search(search, probe, policy=policy, handler=handler)
    probes = tuple(
        CommitProbe(by_sha[probed.event.item], probed.answer.outcome, probed.verdict, reused=probed.answer.reused)
        for probed in run.probes
    )
    return CommitBisection(
        direction=direction,
        before_release=str(before_release),
        after_release=str(after_release),
        commits=commits,
        result=run.result,
        probes=probes,
        first_parent=first_parent,
    )


def check_repository(repository: Path) -> Path:
    """The clone's path, resolved; raises SourceRepositoryError when it is not a git repository."""
    repository = repository.expanduser().resolve()
    if not repository.is_dir():
        raise SourceRepositoryError(
            f"{repository}: no such directory; clone the package's source repository and pass its path"
        )
    if not _git(repository, "rev-parse", "--git-dir").ok:
        raise SourceRepositoryError(
            f"{repository} is not a git repository; clone the package's source repository and pass its path"
        )
    return repository


def release_commit(repository: Path, release: str | Version) -> str:
    """The full sha of the commit a release was made from.

    A tag named ``v1.2.3``, ``1.2.3`` or ``release-1.2.3`` wins; otherwise the first commit on HEAD's history
    at which pyproject.toml, setup.py or setup.cfg (at the root) sets that version.
    """
    spellings = _spellings(release)
    for spelling in spellings:
        for tag in (f"v{spelling}", spelling, f"release-{spelling}"):
            found = _git(repository, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{commit}}")
            if found.ok and found.stdout.strip():
                return found.stdout.strip()
    for spelling in spellings:
        # -G narrows to commits whose diff mentions the version; reading the files confirms they set it.
        listed = _git_checked(
            repository,
            "log",
            "--reverse",
            "--format=%H",
            "-G",
            _basic_regex(spelling),
            "HEAD",
            "--",
            *VERSION_FILES,
            action="searching the history for the version",
        )
        for sha in listed.split():
            if _sets_version(repository, sha, release):
                return sha
    shallow = _git(repository, "rev-parse", "--is-shallow-repository").stdout.strip() == "true"
    hint = "the clone is shallow; run git fetch --unshallow --tags" if shallow else "check the release and the clone"
    raise SourceRepositoryError(
        f"release {release} not found in {repository}: no tag v{spellings[0]}, {spellings[0]} or "
        f"release-{spellings[0]}, and no commit sets that version in {', '.join(VERSION_FILES)}; {hint}"
    )


def commits_between(
    repository: Path,
    older: str,
    newer: str,
    *,
    first_parent: bool = False,
    labels: tuple[str, str] | None = None,
) -> tuple[Commit, ...]:
    """The commits after ``older`` up to and including ``newer``, oldest first, on the paths between them."""
    older_label, newer_label = labels or (older[:12], newer[:12])
    if not _git(repository, "merge-base", "--is-ancestor", older, newer).ok:
        raise SourceRepositoryError(
            f"{older_label} ({older[:12]}) is not an ancestor of {newer_label} ({newer[:12]}) in {repository}; "
            "give the older release first"
        )
    listed = _git_checked(
        repository,
        "log",
        "--reverse",
        "--ancestry-path",
        *(["--first-parent"] if first_parent else []),
        f"--format={_FORMAT}",
        f"{older}..{newer}",
        action="listing the commits between the releases",
    )
    commits = tuple(_parse_commit(line) for line in listed.splitlines() if line)
    if not commits or commits[-1].sha != newer:
        raise SourceRepositoryError(
            f"no commits lead from {older_label} to {newer_label} in {repository}"
            + ("; try without first-parent" if first_parent else "")
        )
    return commits


@contextlib.contextmanager
def scratch_worktree(repository: Path, sha: str) -> Iterator[Path]:
    """A temporary detached worktree of ``repository`` at ``sha``; removed (and pruned) on exit."""
    scratch = Path(tempfile.mkdtemp(prefix="harness-commits-"))
    path = scratch / "source"
    try:
        _git_checked(repository, "worktree", "add", "--detach", "--quiet", str(path), sha, action="git worktree add")
        yield path
    finally:
        removed = _git(repository, "worktree", "remove", "--force", str(path)).ok
        shutil.rmtree(scratch, ignore_errors=True)
        if not removed:
            _git(repository, "worktree", "prune")


def _checkout(worktree: Path, sha: str) -> None:
    _git_checked(worktree, "checkout", "--quiet", "--detach", "--force", sha, action=f"checking out {sha[:12]}")
    # Build products of the previous probe must not leak into this one.
    _git_checked(worktree, "clean", "-ffdxq", action="cleaning the worktree")


def _git(repository: Path, *args: str) -> Completed:
    return run(["git", "-C", str(repository), *args], timeout=GIT_TIMEOUT_SECONDS)


def _git_checked(repository: Path, *args: str, action: str) -> str:
    done = _git(repository, *args)
    if not done.ok:
        reason = (
            "timed out" if done.timed_out else (done.stderr.strip().splitlines() or [f"status {done.returncode}"])[-1]
        )
        raise SourceRepositoryError(f"{action} failed in {repository}: {reason}")
    return done.stdout


_FORMAT = "%H%x1f%aI%x1f%s"
"""sha, author date, subject: the subject last, since it is free text (a unit separator in it stays in it)."""


def _parse_commit(line: str) -> Commit:
    sha, authored, subject = line.split("\x1f", 2)
    return Commit(sha, subject, authored)


def _commit(repository: Path, sha: str) -> Commit:
    shown = _git_checked(repository, "log", "-1", f"--format={_FORMAT}", sha, action="reading a commit")
    return _parse_commit(shown.strip("\n"))


def _spellings(release: str | Version) -> list[str]:
    """The release as given and in normalized form (``1.0`` and ``1.0``; ``v1.0`` and ``1.0``)."""
    spellings = [str(release).strip()]
    with contextlib.suppress(InvalidVersion):
        spellings.append(str(Version(spellings[0])))
    return list(dict.fromkeys(spellings))


def _basic_regex(text: str) -> str:
    """``text`` as a literal in git's basic regular expressions."""
    return re.sub(r"([.\[\]*^$\\])", r"\\\1", text)


def _sets_version(repository: Path, sha: str, release: str | Version) -> bool:
    for name, pattern in _VERSION_PATTERNS.items():
        shown = _git(repository, "show", f"{sha}:{name}")
        if shown.ok and any(_same_version(match.group(1), release) for match in pattern.finditer(shown.stdout)):
            return True
    return False


def _same_version(text: str, release: str | Version) -> bool:
    try:
        return Version(text) == (release if isinstance(release, Version) else Version(str(release)))
    except InvalidVersion:
        return text == str(release)
