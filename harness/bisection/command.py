"""The bisect command's steps: list releases -> probe through stored records -> bisect -> write reports."""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from harness._options import Subcommands, add_different_error_option, add_probing_options
from harness.bisection.commits import CommitBisection, bisect_commits
from harness.bisection.confirm import confirm_runs
from harness.bisection.driver import Answer
from harness.bisection.progress import CommandProgress, SearchProgress
from harness.bisection.releases import BisectionReport, ProbeOutcome, run_bisection, unusable_reason, verdict_text
from harness.bisection.report import commits_to_markdown, report_to_markdown, stored_bisection
from harness.bisection.search import Direction, SearchResult, SearchStatus, VerdictPolicy
from harness.bisection.stored import bisection_to_json
from harness.environments.interface import BuildFailure, EnvironmentRequest
from harness.errors import ConfigError, SourceRepositoryError
from harness.files import read_json_object, write_atomically, write_json
from harness.index.interface import PackageIndex, Release, filter_releases
from harness.markdown import inline
from harness.model.case import Case
from harness.model.known_bad import KNOWN_BAD_FILE, merge_known_bad, range_to_json
from harness.model.pins import Pin, pin_set
from harness.model.probe_record import SourceTree
from harness.probing.prober import Prober
from harness.reports.progress import progress_for
from harness.reports.site import write_reports
from harness.workspace import Workspace, make_prober, package_index, package_sources


@dataclass(frozen=True)
class BisectOptions:
    package: NormalizedName
    good: Version | None = None
    bad: Version | None = None
    held_overrides: tuple[Pin, ...] = ()
    time_travel: bool = True
    different_error_is_bad: bool = False
    include_prereleases: bool = False
    include_yanked: bool = False
    flaky_threshold: float | None = None
    confirm: bool = True
    """Probe the releases either side of each step again before reporting it (``--no-confirm`` turns it off)."""
    all_commits: bool = False
    """Bisect every commit between two releases, not only the first-parent line (merges as single steps)."""

    @property
    def policy(self) -> VerdictPolicy:
        return VerdictPolicy(different_error_is_bad=self.different_error_is_bad, flaky_threshold=self.flaky_threshold)


def held_pins(case: Case, options: BisectOptions) -> tuple[Pin, ...]:
    """The other packages stay at the case's recorded versions unless the user names others."""
    chosen = {pin.name: pin for pin in case.recorded.pins if pin.name != options.package}
    chosen |= {pin.name: pin for pin in options.held_overrides}
    return pin_set(chosen.values())


def list_releases(index: PackageIndex, options: BisectOptions) -> tuple[Release, ...]:
    releases = filter_releases(
        index.releases(options.package),
        include_prereleases=options.include_prereleases,
        include_yanked=options.include_yanked,
    )
    if not releases:
        raise ConfigError(f"{options.package} has no releases to bisect on the configured index")
    return releases


def exclude_newer_for(release: Release, enabled: bool) -> str | None:
    """Resolve the unpinned dependencies as the index stood an hour after this release was uploaded."""
    if not enabled or release.upload_time is None:
        return None
    return (release.upload_time + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_release_probe(
    case: Case,
    prober: Prober,
    releases: Sequence[Release],
    options: BisectOptions,
    *,
    repeat: int | None = None,
    sample: int = 0,
) -> Callable[[Version], ProbeOutcome]:
    """Probe a release with the other pins held; ``repeat``/``sample`` make a confirmation probe's request."""
    by_version = {release.version: release for release in releases}
    held = held_pins(case, options)
    current = held_closure(prober, held) if options.time_travel and held else ()

    def probe(version: Version) -> ProbeOutcome:
        pins = (*held, Pin(options.package, version))
        exclude_newer = exclude_newer_for(by_version[version], options.time_travel)
        request = prober.request_for(
            case, pins, exclude_newer=exclude_newer, current_packages=current, repeat=repeat, sample=sample
        )
        result = prober.probe(case, request)
        record = result.record
        return ProbeOutcome(
            version=version,
            outcome=record.outcome,
            seconds=record.timings.total,
            reused=result.reused,
            detail=record.detail,
            record_key=record.key,
            repeats=record.repeats,
            repairs=record.repairs,
        )

    return probe


def held_closure(prober: Prober, held: tuple[Pin, ...]) -> tuple[str, ...]:
    """The held pins and everything they depend on: exempt from time travel, since they are today's.

    Without this, torch 2.13 held beside an x-transformers release from 2024 would need a setuptools from
    2026 that a 2024 cut-off hides, and every old release would look unresolvable.
    """
    locked = prober.provider.lock(EnvironmentRequest(held, prober.python, prober.sources))
    if isinstance(locked, BuildFailure):
        raise ConfigError(
            f"the held versions {', '.join(map(str, held))} cannot be installed together: "
            f"{locked.verdict.detail.splitlines()[0]}"
        )
    return tuple(sorted(canonicalize_name(name) for name, _, _ in locked))


def release_progress(progress: CommandProgress | None, package: str) -> SearchProgress[Version] | None:
    return None if progress is None else SearchProgress(progress, lambda version: f"{package} {version}")


def bisect_releases(
    case: Case, prober: Prober, index: PackageIndex, options: BisectOptions, *, progress: CommandProgress | None = None
) -> tuple[BisectionReport, tuple[Release, ...]]:
    if options.package not in case.packages:
        raise ConfigError(f"case {case.id} does not concern {options.package}; it concerns {', '.join(case.packages)}")
    releases = list_releases(index, options)
    recorded = case.recorded.version_of(options.package)
    runs = confirm_runs(prober.repeat or case.repeat)
    confirm = make_release_probe(case, prober, releases, options, repeat=runs, sample=1) if options.confirm else None
    report = run_bisection(
        case_id=case.id,
        package=options.package,
        releases=[release.version for release in releases],
        probe=make_release_probe(case, prober, releases, options),
        good=options.good,
        bad=options.bad,
        recorded_bad=recorded.version if recorded else None,
        upload_dates={r.version: r.upload_time for r in releases if r.upload_time is not None},
        held=held_pins(case, options),
        policy=options.policy,
        handler=release_progress(progress, options.package),
        confirm=confirm,
        confirm_runs=runs,
    )
    return report, releases


def repository_url(index: PackageIndex, package: str, version: Version | None) -> str | None:
    if version is None:
        return None
    urls = index.project_urls(package, version)
    forges = ("github.com/", "codeberg.org/", "gitlab.com/")
    for label in ("Source", "Source Code", "Repository", "Code", "GitHub", "Homepage", "Home-page", "Home"):
        for key, url in urls.items():
            if key.lower() == label.lower() and any(forge in url for forge in forges):
                return url.rstrip("/")
    return next((url.rstrip("/") for url in urls.values() if any(forge in url for forge in forges)), None)


def reproduce_command(case: Case, options: BisectOptions, root: Path | None = None) -> str:
    """The command that reruns this bisection: a case from ``cases/`` by its id, any other by its folder
    (relative to the project root when inside it), shell-quoted."""
    selector = case.id
    if root is not None and case.directory.resolve() != (root / "cases" / case.id).resolve():
        folder = case.directory.resolve()
        selector = str(folder.relative_to(root.resolve())) if folder.is_relative_to(root.resolve()) else str(folder)
    parts = ["nox", "-s", "bisect", "--", selector, options.package]
    if options.good:
        parts += ["--good", str(options.good)]
    if options.bad:
        parts += ["--bad", str(options.bad)]
    return shlex.join(parts)


def write_bisection(
    reports_dir: Path,
    report: BisectionReport,
    releases: Sequence[Release],
    *,
    repository: str | None,
    command: str,
    commits: CommitBisection | None = None,
    fix_commits: CommitBisection | None = None,
    fix_skipped: str | None = None,
) -> Path:
    stored = stored_bisection(
        report,
        releases=releases,
        repository_url=repository,
        reproduce_command=command,
        commits=commits,
        fix_commits=fix_commits,
    )
    markdown = report_to_markdown(report, repository_url=repository, reproduce_command=command)
    for window in (commits, fix_commits):
        if window is not None:
            markdown += "\n" + commits_to_markdown(window, repository_url=repository)
    if fix_skipped is not None:
        markdown += f"\n## The fixing commit\n\nNot bisected: {inline(fix_skipped)}\n"
    stem = reports_dir / "bisect" / f"{report.case_id}--{report.package}"
    write_json(stem.with_suffix(".json"), bisection_to_json(stored))
    write_atomically(stem.with_suffix(".md"), markdown)
    if stored.known_bad is not None:
        known_bad_path = reports_dir / KNOWN_BAD_FILE
        existing = read_json_object(known_bad_path)
        write_json(known_bad_path, merge_known_bad(existing, range_to_json(stored.known_bad)))
    return stem.with_suffix(".md")


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


def parse_version(text: str | None, what: str) -> Version | None:
    if text is None:
        return None
    try:
        return Version(text)
    except InvalidVersion:
        raise ConfigError(f"{what}: {text!r} is not a version") from None


def package_name(text: str) -> NormalizedName:
    return canonicalize_name(text)


def bisection_summary(report: BisectionReport, commits: CommitWindows | None) -> str:
    """The verdict in a few lines for the terminal; the Markdown report has the evidence."""
    lines = [f"{report.case_id}: {report.package}"]
    lines.append(f"  regression: {verdict_text(report, report.regression)}")
    if report.fix is not None:
        lines.append(f"  fix:        {verdict_text(report, report.fix)}")
    if report.known_bad is not None:
        lines.append(f"  known-bad range: {report.package}{report.known_bad or ' (every release)'}")
    if report.uncertain:
        lines.append(f"  could not be tested (the gate says undecided): {', '.join(report.uncertain)}")
    if report.confirmation is not None:
        confirmation = report.confirmation
        lines.append(
            f"  boundaries confirmed: probed again with {confirmation.runs} runs"
            if confirmation.confirmed
            else f"  boundaries UNCONFIRMED: a re-probe with {confirmation.runs} runs contradicted a step; "
            "raise --repeat"
        )
    if commits is not None and commits.fix_skipped is not None:
        lines.append(f"  fixing commit not bisected: {commits.fix_skipped}")
    for window, label in ((commits.regression, "first bad"), (commits.fix, "first fixed")) if commits else ():
        if window is None:
            continue
        first = window.first_commit
        lines.append(
            f"  {label} commit: {first.sha[:12]} {first.subject}"
            if first
            else f"  commits ({window.direction.value}): {window.result.message}"
        )
    return "\n".join(lines)


INCOMPLETE = 3
"""The exit status of a bisection that did not pin down both boundaries (as the gate's "undecided")."""
_MISSING_MODULE = re.compile(r"No module named '([^'.]+)")


def exit_status(report: BisectionReport) -> tuple[int, str]:
    """0 when both searches found their boundary; else 3 and one line: which search, why, and what would help."""
    for result in (report.regression, report.fix):
        if result is not None and result.status is not SearchStatus.FOUND:
            return INCOMPLETE, f"{result.direction.value}: {_why(report, result)}; {_what_would_help(report, result)}"
    if report.fix is None:
        return INCOMPLETE, "fix: not searched, since the regression search found no bad release to start from"
    return 0, ""


def _why(report: BisectionReport, result: SearchResult[Version]) -> str:
    if result.status is SearchStatus.AMBIGUOUS and result.after is not None:
        side = "below" if result.direction is Direction.REGRESSION else "from"
        reason = unusable_reason(report, result)
        count = len(result.unusable) + len(result.untried)
        return f"{count} releases {side} {result.after} could not be tested{reason}"
    return verdict_text(report, result)


def _what_would_help(report: BisectionReport, result: SearchResult[Version]) -> str:
    tried = (*result.unusable, *([result.anchor] if result.anchor is not None else []))
    details = [found.detail for version in tried if (found := report.outcome_of(version)) is not None]
    missing = next((match.group(1) for detail in details if (match := _MISSING_MODULE.search(detail))), None)
    if missing is not None:
        return f"add {missing!r} to requirements in case.toml (the releases import it without declaring it)"
    if result.status is SearchStatus.INVALID_ANCHOR:
        given = "--good V (a release that does not reproduce)" if result.anchor == report.good else "--bad V"
        return f"give {given} instead, or fix what made the probe fail"
    if result.status is SearchStatus.AMBIGUOUS:
        return "hold other versions with --hold so these releases install, or use --git-repo to bisect commits"
    if result.direction is Direction.REGRESSION and result.after is not None:
        return "give --good V: a release that does not reproduce, if one exists"
    if result.direction is Direction.REGRESSION:
        return "give --bad V: a release that reproduces"
    return (
        "nothing newer to test: the failure is not fixed yet"
        if not result.unusable
        else ("hold other versions with --hold so the newer releases install")
    )


def register(commands: Subcommands) -> None:
    bisect = commands.add_parser("bisect", help="find the first bad and first fixed release of one package")
    bisect.add_argument("case", help="case id or folder")
    bisect.add_argument("package", help="the package whose releases to bisect")
    bisect.add_argument("--good", help="a release known not to reproduce (default: search back from the bad one)")
    bisect.add_argument("--bad", help="a release known to reproduce (default: the case's recorded version)")
    bisect.add_argument(
        "--hold",
        action="append",
        default=[],
        metavar="NAME==VERSION",
        help="hold another package at this version (default: the case's recorded versions)",
    )
    bisect.add_argument(
        "--git-repo",
        type=Path,
        default=None,
        help="a local clone of the package's source: also find the first bad commit",
    )
    bisect.add_argument(
        "--no-time-travel",
        dest="time_travel",
        action="store_false",
        help="resolve unpinned dependencies as of today, not as of each release's upload",
    )
    bisect.add_argument(
        "--all-commits",
        action="store_true",
        help="with --git-repo: bisect inside merged branches too (default: the first-parent line, a merge as one step)",
    )
    bisect.add_argument(
        "--flaky-threshold",
        type=share,
        default=None,
        metavar="P",
        help="count a FLAKY release as bad only when at least this share of its runs reproduced (0 < P <= 1), "
        "and skip it below; default: bad when any run reproduced",
    )
    bisect.add_argument(
        "--no-confirm",
        dest="confirm",
        action="store_false",
        help="report the steps without probing the releases either side of them again",
    )
    add_different_error_option(bisect, old_name="--different-error-is-bad")
    bisect.add_argument("--prereleases", action="store_true", help="include pre-releases")
    bisect.add_argument("--yanked", action="store_true", help="include yanked releases")
    add_probing_options(bisect)
    bisect.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    workspace = Workspace.at(args.root)
    (case,) = workspace.cases([args.case])
    spec = workspace.matrix_spec(args.versions)
    sources = package_sources(spec)
    options = BisectOptions(
        package=package_name(args.package),
        good=parse_version(args.good, "--good"),
        bad=parse_version(args.bad, "--bad"),
        held_overrides=tuple(Pin.parse(text) for text in args.hold),
        time_travel=args.time_travel,
        different_error_is_bad=args.different_error_is_failure,
        include_prereleases=args.prereleases,
        include_yanked=args.yanked,
        flaky_threshold=args.flaky_threshold,
        confirm=args.confirm,
        all_commits=args.all_commits,
    )
    index = package_index(workspace, sources, offline=args.offline)
    with (
        make_prober(
            workspace,
            spec,
            sources,
            fresh=args.fresh,
            mode=args.mode,
            repeat=args.repeat,
            preload=args.preload,
            repair=args.repair,
            offline=args.offline,
        ) as prober,
        CommandProgress(progress_for(sys.stderr)) as progress,
    ):
        report, releases = bisect_releases(case, prober, index, options, progress=progress)
        commits = None
        if args.git_repo is not None:
            commits = bisect_commit_windows(case, prober, args.git_repo, report, options, progress=progress)
    probed = sum(1 for step in report.steps if not step.probe.reused)
    written = write_bisection(
        workspace.reports_dir,
        report,
        releases,
        repository=repository_url(index, options.package, report.regression.after or report.regression.before),
        command=reproduce_command(case, options, workspace.root),
        commits=None if commits is None else commits.regression,
        fix_commits=None if commits is None else commits.fix,
        fix_skipped=None if commits is None else commits.fix_skipped,
    )
    write_reports(workspace, workspace.cases([args.case]))
    print(bisection_summary(report, commits))
    print(f"{len(report.steps)} probes ({len(report.steps) - probed} from stored records); report: {written}")
    if report.confirmation is not None:
        again = {r.version: r.again for r in report.confirmation.reprobes}
        reused = sum(1 for probe in again.values() if probe.reused)
        print(f"{len(again)} confirmation probes ({reused} from stored records)")
    if commits is not None:
        print(f"{commits.probes} commit probes ({commits.reused} from stored records)")
    status, reason = exit_status(report)
    if status:
        print(f"harness: bisection incomplete (exit {status}): {reason}", file=sys.stderr)
    return status


def share(text: str) -> float:
    """An argparse type: a share of runs, above 0 and at most 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{value} is not a share of runs (0 < P <= 1)")
    return value
