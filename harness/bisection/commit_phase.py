"""The commit phase: between the boundary releases, install the package from each commit of a local clone."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.bisection.commits import CommitBisection, bisect_commits
from harness.bisection.driver import Answer
from harness.bisection.options import BisectOptions, held_pins
from harness.bisection.progress import CommandProgress, SearchProgress
from harness.bisection.releases import BisectionReport
from harness.bisection.search import Direction
from harness.errors import SourceRepositoryError
from harness.model.case import Case
from harness.model.probe_record import SourceTree
from harness.probing.prober import Prober


@dataclass(frozen=True)
class CommitWindows:
    """The commit phase's two windows: where the failure started and where it stopped (either may be absent)."""

    regression: CommitBisection | None
    fix: CommitBisection | None
    fix_skipped: str | None = None
    """Why the fix window was not bisected (its releases are not in the clone, say); the regression's errors
    are the command's, since that window is what ``--git-repo`` was asked for."""

    @property
    def probes(self) -> int:
        return sum(len(window.probes) for window in (self.regression, self.fix) if window is not None)

    @property
    def reused(self) -> int:
        windows = (self.regression, self.fix)
        return sum(1 for window in windows if window is not None for probe in window.probes if probe.reused)


def bisect_commit_windows(
    case: Case,
    prober: Prober,
    repository: Path,
    report: BisectionReport,
    options: BisectOptions,
    *,
    progress: CommandProgress | None = None,
) -> CommitWindows:
    """The first bad commit between last good and first bad, and the first fixed one between last bad and
    first fixed, wherever the release bisection found both ends of a window."""
    regression = bisect_source_commits(case, prober, repository, report, options, progress=progress)
    try:
        fix = bisect_source_commits(
            case, prober, repository, report, options, progress=progress, direction=Direction.FIX
        )
    except SourceRepositoryError as exc:
        return CommitWindows(regression, None, fix_skipped=str(exc))
    return CommitWindows(regression, fix)


def bisect_source_commits(
    case: Case,
    prober: Prober,
    repository: Path,
    report: BisectionReport,
    options: BisectOptions,
    *,
    progress: CommandProgress | None = None,
    direction: Direction = Direction.REGRESSION,
) -> CommitBisection | None:
    """Between the two releases either side of a step, install the package from each commit and find the first
    commit after the step: the first bad one (regression, between last good and first bad) or the fixing one
    (fix, between last bad and first fixed). None when the release bisection left either end unknown.

    Each commit probe is a request of its own (the package from its source tree at that sha, the other pins
    held), stored like any other: a second run at the same commits is answered from the records. Only the
    first-parent line is followed unless ``options.all_commits``.
    """
    result = report.regression if direction is Direction.REGRESSION else report.fix
    if result is None or result.before is None or result.after is None:
        return None
    held = held_pins(case, options)

    def probe_source(worktree: Path, sha: str) -> Answer:
        request = prober.request_for(case, held, source=SourceTree(options.package, sha))
        found = prober.probe(case, request, source_tree=worktree)
        record = found.record
        return Answer(record.outcome, record.timings.total, found.reused, record.repeats)

    def describe(sha: str) -> str:
        return f"{options.package} at commit {sha[:12]}"

    return bisect_commits(
        repository,
        result.before,
        result.after,
        probe_source,
        direction=direction,
        policy=options.policy,
        first_parent=not options.all_commits,
        handler=None if progress is None else SearchProgress(progress, describe),
    )
