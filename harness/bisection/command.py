"""The bisect command's steps: list releases -> probe through stored records -> bisect -> write reports."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from harness._options import (
    Subcommands,
    add_different_error_option,
    add_jobs_option,
    add_probing_options,
    probing_settings,
)
from harness.bisection.commit_phase import bisect_commit_windows
from harness.bisection.commits import CommitBisection
from harness.bisection.confirm import confirm_runs
from harness.bisection.options import BisectOptions, held_pins
from harness.bisection.outcome_lines import bisection_summary, exit_status
from harness.bisection.progress import CommandProgress, SearchProgress
from harness.bisection.releases import BisectionReport, ReleaseProbe, run_bisection
from harness.bisection.report import commits_to_markdown, report_to_markdown, stored_bisection
from harness.bisection.stored import bisection_to_json
from harness.environments.interface import BuildFailure, EnvironmentRequest
from harness.errors import ConfigError
from harness.files import read_json_object, write_atomically, write_json
from harness.index.interface import PackageIndex, Release, filter_releases
from harness.markdown import inline
from harness.model.case import Case
from harness.model.known_bad import KNOWN_BAD_FILE, merge_known_bad, range_to_json
from harness.model.pins import Pin
from harness.probing.prober import Prober
from harness.reports.progress import progress_for
from harness.reports.site import write_reports
from harness.workspace import Workspace, make_prober, package_index, package_sources


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
) -> Callable[[Version], ReleaseProbe]:
    """Probe a release with the other pins held; ``repeat``/``sample`` make a confirmation probe's request."""
    by_version = {release.version: release for release in releases}
    held = held_pins(case, options)
    current = held_closure(prober, held) if options.time_travel and held else ()

    def probe(version: Version) -> ReleaseProbe:
        pins = (*held, Pin(options.package, version))
        exclude_newer = exclude_newer_for(by_version[version], options.time_travel)
        request = prober.request_for(
            case, pins, exclude_newer=exclude_newer, current_packages=current, repeat=repeat, sample=sample
        )
        result = prober.probe(case, request)
        record = result.record
        return ReleaseProbe(
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
        jobs=options.jobs,
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


def parse_version(text: str | None, what: str) -> Version | None:
    if text is None:
        return None
    try:
        return Version(text)
    except InvalidVersion:
        raise ConfigError(f"{what}: {text!r} is not a version") from None


def package_name(text: str) -> NormalizedName:
    return canonicalize_name(text)


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
    add_jobs_option(
        bisect, default=None, what="releases to probe at once: the ones the search may ask for next run ahead"
    )
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
        jobs=max(1, args.jobs),
    )
    index = package_index(workspace, sources, offline=args.offline)
    with (
        make_prober(workspace, spec, sources, **probing_settings(args)) as prober,
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
