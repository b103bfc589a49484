"""Command line: each command is a chain of small steps; errors a user can act on are one line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from harness import __version__
from harness.bisect_command import (
    BisectOptions,
    bisect_releases,
    bisect_source_commits,
    bisection_summary,
    package_name,
    parse_version,
    repository_url,
    reproduce_command,
    write_bisection,
)
from harness.case import load_case
from harness.culprit_command import (
    CulpritFinding,
    bisect_culprit,
    culprit_summary,
    isolate_culprit,
    load_delta,
    write_culprit,
)
from harness.environments.uv import UvEnvironmentProvider
from harness.errors import ConfigError, HarnessError
from harness.gate.policy import decide, static_findings, usage_decision
from harness.gate.run import (
    CandidateSources,
    GateOutputs,
    load_accepted,
    load_known_bad,
    probe_live,
    read_candidate_pins,
    relevant_cases,
    today,
    write_outputs,
)
from harness.index.combined import index_for
from harness.matrix import MatrixSpec
from harness.outcome import Outcome
from harness.pins import Pin
from harness.probe import Prober
from harness.recording import record_case
from harness.reporting import KNOWN_BAD_FILE, read_json_files, write_reports
from harness.reports.export import install_command_for, render_bug_report
from harness.reports.progress import progress_for
from harness.repro import execute, plan, select
from harness.runners.forkserver import DEFAULT_PRELOAD, ForkServerRunner
from harness.runners.interface import CaseRunner
from harness.runners.isolated import IsolatedRunner
from harness.sources import PackageSources
from harness.store import write_atomically
from harness.workspace import Workspace, expand_matrix, package_sources

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def make_runner(mode: str, preload: Sequence[str] = ()) -> CaseRunner:
    if mode == "fork":
        return ForkServerRunner(preload or DEFAULT_PRELOAD)
    return IsolatedRunner()


def make_prober(
    workspace: Workspace,
    spec: MatrixSpec,
    sources: PackageSources,
    *,
    fresh: bool,
    mode: str = "isolated",
    preload: Sequence[str] = (),
) -> Prober:
    return Prober(
        UvEnvironmentProvider(workspace.home),
        make_runner(mode, preload),
        workspace.records,
        python=spec.python,
        sources=sources,
        fresh=fresh,
    )


def command_repro(args: argparse.Namespace) -> int:
    workspace = Workspace.at(args.root)
    cases = workspace.cases(args.case)
    spec = workspace.matrix_spec(args.versions)
    sources = package_sources(spec)
    matrix = expand_matrix(workspace, spec, sources)
    combinations = select(matrix, args.only)
    prober = make_prober(workspace, spec, sources, fresh=args.fresh, mode=args.mode, preload=args.preload)
    planned = plan(cases, combinations, prober, forced=args.force)
    if not planned:
        raise ConfigError(
            f"no case concerns the packages of {spec.source_file} ({', '.join(spec.package_names)}); "
            "check the 'packages' list of each case.toml"
        )
    progress = progress_for(sys.stderr, parallel=args.jobs)
    progress.start(len(planned))
    try:
        with prober:
            results = execute(
                planned,
                prober,
                jobs=args.jobs,
                on_start=lambda item: progress.probe_started(item.label),
                on_done=lambda item, result: progress.probe_finished(
                    item.label, result.record.outcome, result.record.timings.total, result.reused
                ),
            )
    finally:
        progress.finish()
        # Written even when interrupted: every finished record is already on disk and belongs in the summary.
        summaries = write_reports(workspace, cases)
    reused = sum(1 for r in results if r.reused)
    print(f"{len(results)} probes ({reused} from stored records); summaries in {workspace.reports_dir}/")
    for summary in summaries:
        print(f"  {summary.case_id}: {workspace.reports_dir / summary.case_id / 'summary.md'}")
    return EXIT_OK


def command_report(args: argparse.Namespace) -> int:
    workspace = Workspace.at(args.root)
    cases = workspace.cases(args.case)
    for summary in write_reports(workspace, cases):
        print(f"{summary.case_id}: {len(summary.cells)} combinations -> reports/{summary.case_id}/summary.md")
    return EXIT_OK


def command_list(args: argparse.Namespace) -> int:
    workspace = Workspace.at(args.root)
    spec = workspace.matrix_spec(args.versions)
    matrix = expand_matrix(workspace, spec, package_sources(spec))
    if args.json:
        print(
            json.dumps(
                {
                    "combinations": [c.label for c in matrix.combinations],
                    "excluded": [c.label for c in matrix.excluded],
                },
                indent=2,
            )
        )
    else:
        for combination in matrix.combinations:
            print(combination.label)
    return EXIT_OK


def command_gate(args: argparse.Namespace) -> int:
    workspace = Workspace.at(args.root)
    outputs = GateOutputs(args.junit, args.markdown, args.github or os.environ.get("GITHUB_ACTIONS") == "true")
    try:
        cases = workspace.cases(args.case)
        watched = {name for case in cases for name in case.packages}
        candidates = read_candidate_pins(
            CandidateSources(tuple(args.candidate), tuple(args.file), args.current_environment, tuple(args.extra)),
            watched,
        )
        ranges = load_known_bad(args.known_bad or workspace.reports_dir / KNOWN_BAD_FILE)
        accepted = load_accepted(args.accept, workspace.root / "gate.toml")
    except ConfigError as exc:
        # Still write the JUnit/Markdown files, so a CI step that uploads them shows why the gate refused.
        print(write_outputs(usage_decision(str(exc)), outputs), file=sys.stderr)
        raise
    static = static_findings(candidates, ranges)
    live = []
    if not args.static_only:
        spec = workspace.matrix_spec(args.versions)
        with make_prober(workspace, spec, package_sources(spec), fresh=args.fresh, mode=args.mode) as prober:
            live = probe_live(relevant_cases(cases, candidates), candidates, prober)
    decision = decide(static, live, accepted, today(), args.strict, different_error_fails=args.different_error_fails)
    print(write_outputs(decision, outputs))
    return decision.exit_code


def command_bisect(args: argparse.Namespace) -> int:
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
        different_error_is_bad=args.different_error_is_bad,
        include_prereleases=args.prereleases,
        include_yanked=args.yanked,
    )
    index = index_for(sources, cache_dir=workspace.home / "index")
    with make_prober(workspace, spec, sources, fresh=args.fresh, mode=args.mode, preload=args.preload) as prober:
        report, releases = bisect_releases(case, prober, index, options)
        commits = None
        if args.git_repo is not None:
            commits = bisect_source_commits(case, prober, args.git_repo, report, options)
    probed = sum(1 for step in report.steps if not step.probe.reused)
    written = write_bisection(
        workspace.reports_dir,
        report,
        releases,
        repository=repository_url(index, options.package, report.regression.after),
        command=reproduce_command(case, options),
        commits=commits,
    )
    write_reports(workspace, workspace.cases([args.case]))
    print(bisection_summary(report, commits))
    print(f"{len(report.steps)} probes ({len(report.steps) - probed} from stored records); report: {written}")
    return EXIT_OK


def command_culprit(args: argparse.Namespace) -> int:
    workspace = Workspace.at(args.root)
    (case,) = workspace.cases([args.case])
    delta = load_delta(args.good_env, args.bad_env, only=tuple(args.only))
    spec = workspace.matrix_spec(args.versions)
    sources = package_sources(spec)
    with make_prober(workspace, spec, sources, fresh=args.fresh, mode=args.mode, preload=args.preload) as prober:
        result = isolate_culprit(case, prober, delta)
        bisection = None
        if args.bisect:
            index = index_for(sources, cache_dir=workspace.home / "index")
            bisection = bisect_culprit(case, prober, index, delta, result)
    finding = CulpritFinding(delta, result, bisection)
    written = write_culprit(workspace.reports_dir, case, finding)
    write_reports(workspace, [case])
    print(culprit_summary(finding))
    print(f"{len(result.trials)} trials; report: {written}")
    return EXIT_OK


def command_sweep(args: argparse.Namespace) -> int:
    workspace = Workspace.at(args.root)
    (case,) = workspace.cases([args.case])
    if not case.sweep:
        raise ConfigError(f"case {case.id} declares no [sweep] grid in its case.toml")
    spec = workspace.matrix_spec(args.versions)
    sources = package_sources(spec)
    overrides = {pin.name: pin for pin in (Pin.parse(text) for text in args.with_)}
    pins = tuple({**{pin.name: pin for pin in case.recorded.pins}, **overrides}.values())
    prober = make_prober(workspace, spec, sources, fresh=args.fresh, mode=args.mode, preload=args.preload)
    points = list(case.sweep_points())
    progress = progress_for(sys.stderr, parallel=1)
    progress.start(len(points))
    with prober:
        for parameters in points:
            label = ", ".join(f"{name}={value}" for name, value in parameters)
            progress.probe_started(label)
            result = prober.probe(case, prober.request_for(case, pins, parameters))
            progress.probe_finished(label, result.record.outcome, result.record.timings.total, result.reused)
    progress.finish()
    write_reports(workspace, [case])
    print((workspace.reports_dir / case.id / "sweep.md").read_text(encoding="utf-8"))
    return EXIT_OK


def command_export(args: argparse.Namespace) -> int:
    workspace = Workspace.at(args.root)
    (case,) = workspace.cases([args.case])
    wanted = {Pin.parse(text) for text in args.with_}
    candidates = [
        record
        for record in workspace.records.records(case.id)
        if record.outcome is Outcome.REPRODUCED and wanted <= set(record.request.pins)
    ]
    if not candidates:
        raise ConfigError(
            f"no REPRODUCED record of {case.id} with {', '.join(map(str, wanted)) or 'any versions'}; "
            "run nox -s repro first"
        )
    record = max(candidates, key=lambda r: (r.request.parameters == case.parameters, r.started_at))
    bisections = read_json_files(sorted((workspace.reports_dir / "bisect").glob(f"{case.id}--*.json")))
    text = render_bug_report(
        case,
        record,
        replay_source=case.replay_file.read_text(encoding="utf-8"),
        install_command=install_command_for(record, order=case.packages),
        bisection=bisections[0] if bisections else None,
    )
    target = args.output or workspace.reports_dir / case.id / "bug-report.md"
    write_atomically(target, text)
    print(text)
    print(f"(written to {target})", file=sys.stderr)
    return EXIT_OK


def command_record(args: argparse.Namespace) -> int:
    workspace = Workspace.at(args.root)
    recording = record_case(
        args.script,
        args.cases_dir or workspace.cases_dir,
        case_id=args.id,
        packages=[name.strip() for name in args.packages.split(",") if name.strip()],
        python=args.python,
        title=args.title,
    )
    load_case(recording.folder)  # what we wrote must load; a failure here is a bug worth seeing at once
    print(f"recorded {recording.error.type_name}: {recording.error.first_line}")
    print(f"case folder: {recording.folder} (pins: {', '.join(f'{k}=={v}' for k, v in recording.pins.items())})")
    print("Review its [signature] in case.toml, then run: nox -s repro")
    return EXIT_OK


def add_probing_options(parser: argparse.ArgumentParser) -> None:
    """The options every command that probes shares: sources, record reuse, and how cases run."""
    parser.add_argument(
        "--versions", type=Path, default=None, help="versions.toml to take Python and package sources from"
    )
    parser.add_argument("--fresh", action="store_true", help="probe again even where a stored record exists")
    parser.add_argument(
        "--mode",
        choices=("isolated", "fork"),
        default="isolated",
        help="isolated: a fresh interpreter per probe; fork: share pre-imported torch across probes "
        "(falls back to isolated whenever it cannot prove the shared modules identical)",
    )
    parser.add_argument(
        "--preload",
        action="append",
        default=[],
        metavar="DISTRIBUTION",
        help=f"with --mode fork: distributions whose modules the worker imports once (default: {DEFAULT_PRELOAD[0]})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness",
        description="Replay recorded failures across dependency versions, bisect them, and gate upgrades.",
    )
    parser.add_argument("--version", action="version", version=f"harness {__version__}")
    parser.add_argument("--root", type=Path, default=None, help="project folder (default: current folder)")
    parser.add_argument("--verbose", action="store_true", help="show tracebacks for errors")
    commands = parser.add_subparsers(dest="command", required=True)

    _add_repro_command(commands)
    _add_report_command(commands)
    _add_bisect_command(commands)
    _add_culprit_command(commands)
    _add_gate_command(commands)
    _add_sweep_command(commands)
    _add_export_command(commands)
    _add_record_command(commands)
    _add_listing_command(commands)
    return parser


def _add_repro_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    repro = commands.add_parser("repro", help="replay the cases across the version matrix")
    repro.add_argument("--case", action="append", default=[], help="case id or folder (repeatable; default all)")
    repro.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="COMBINATION",
        help="run one combination, as listed by `harness list` (repeatable)",
    )
    repro.add_argument(
        "--force", action="store_true", help="apply pins as uv overrides, outside the packages' declared requirements"
    )
    repro.add_argument("--jobs", type=int, default=1, help="probes to run at once (default 1)")
    add_probing_options(repro)
    repro.set_defaults(handler=command_repro)


def _add_report_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = commands.add_parser("report", help="rebuild summaries from every stored record")
    report.add_argument("--case", action="append", default=[])
    report.set_defaults(handler=command_report)


def _add_bisect_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        "--different-error-is-bad",
        action="store_true",
        help="count a different error as bad instead of skipping the release",
    )
    bisect.add_argument("--prereleases", action="store_true", help="include pre-releases")
    bisect.add_argument("--yanked", action="store_true", help="include yanked releases")
    add_probing_options(bisect)
    bisect.set_defaults(handler=command_bisect)


def _add_culprit_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    culprit = commands.add_parser(
        "culprit", help="which of the changes between a good and a bad environment breaks the case"
    )
    culprit.add_argument("case", help="case id or folder")
    culprit.add_argument(
        "--good-env",
        type=Path,
        required=True,
        help="the environment that worked: pip freeze output, requirements, pylock.toml or uv.lock",
    )
    culprit.add_argument("--bad-env", type=Path, required=True, help="the environment that fails, in the same forms")
    culprit.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="PACKAGE",
        help="consider only these packages' changes (the rest stay at the good versions)",
    )
    culprit.add_argument(
        "--no-bisect", dest="bisect", action="store_false", help="do not bisect the culprit's releases afterwards"
    )
    add_probing_options(culprit)
    culprit.set_defaults(handler=command_culprit)


def _add_sweep_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sweep = commands.add_parser(
        "sweep", help="which parameter combinations of a case reproduce, for one set of versions"
    )
    sweep.add_argument("case", help="case id or folder")
    sweep.add_argument(
        "--with",
        dest="with_",
        action="append",
        default=[],
        metavar="NAME==VERSION",
        help="versions to sweep with (default: the case's recorded environment)",
    )
    add_probing_options(sweep)
    sweep.set_defaults(handler=command_sweep)


def _add_export_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = commands.add_parser("export", help="write a paste-ready upstream bug report from a reproduced record")
    export.add_argument("case", help="case id or folder")
    export.add_argument(
        "--with",
        dest="with_",
        action="append",
        default=[],
        metavar="NAME==VERSION",
        help="choose the record with these versions (default: the newest reproduction)",
    )
    export.add_argument("--output", type=Path, default=None, help="default reports/<case>/bug-report.md")
    export.set_defaults(handler=command_export)


def _add_record_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    record = commands.add_parser("record", help="turn a failing script into a new case folder")
    record.add_argument("script", type=Path, help="the script that fails")
    record.add_argument("--id", required=True, help="the new case's id (its folder name)")
    record.add_argument("--packages", required=True, help="comma-separated packages the case concerns, e.g. a,b")
    record.add_argument("--python", default=sys.executable, help="interpreter of the failing environment")
    record.add_argument("--title", default=None)
    record.add_argument("--cases-dir", type=Path, default=None, help="default: cases/ of the project")
    record.set_defaults(handler=command_record)


def _add_gate_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gate = commands.add_parser(
        "gate",
        help="does any recorded case reproduce with these candidate versions? exit 0 clear, 1 failed, "
        "2 bad usage, 3 undecided",
    )
    gate.add_argument("--candidate", action="append", default=[], metavar="NAME==VERSION")
    gate.add_argument(
        "--file",
        "--requirements",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="requirements file, pyproject.toml, uv.lock or pylock.toml with the candidate versions (repeatable)",
    )
    gate.add_argument("--extra", action="append", default=[], help="pyproject optional-dependency group to include")
    gate.add_argument("--current-environment", action="store_true", help="take candidates from this interpreter")
    gate.add_argument("--case", action="append", default=[], help="only these cases (default: all that apply)")
    gate.add_argument("--known-bad", type=Path, default=None, help="known-bad ranges (default reports/known-bad.json)")
    gate.add_argument("--accept", type=Path, default=None, help="acknowledged regressions (default gate.toml)")
    gate.add_argument("--static-only", action="store_true", help="only compare with known-bad ranges; build nothing")
    gate.add_argument("--strict", action="store_true", help="an undecided gate (exit 3) fails (exit 1)")
    gate.add_argument(
        "--different-error-fails", action="store_true", help="a case failing with another error blocks the upgrade too"
    )
    gate.add_argument("--junit", type=Path, default=None, help="write JUnit XML here")
    gate.add_argument("--markdown", type=Path, default=None, help="write a Markdown summary here")
    gate.add_argument("--github", action="store_true", help="print GitHub Actions annotations (automatic in Actions)")
    add_probing_options(gate)
    gate.set_defaults(handler=command_gate)


def _add_listing_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listing = commands.add_parser("list", help="list the combinations of versions.toml")
    listing.add_argument("--versions", type=Path, default=None)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=command_list)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except HarnessError as exc:
        if args.verbose:
            raise
        print(f"harness: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # Output piped into `head` and cut short: not an error, and nothing more can be printed.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("harness: interrupted; every finished record is kept in reports/records/", file=sys.stderr)
        return EXIT_INTERRUPTED
