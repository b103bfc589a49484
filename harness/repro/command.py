"""The repro and list commands: every case in every combination of versions.toml, and the combinations."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from harness._options import Subcommands, add_probing_options
from harness.errors import ConfigError
from harness.model.case import Case
from harness.model.matrix import Combination
from harness.reports.progress import progress_for
from harness.reports.site import write_reports
from harness.repro.plan import execute, plan, select
from harness.workspace import (
    ExpandedMatrix,
    Workspace,
    expand_matrix,
    load_expanded_matrix,
    make_prober,
    package_sources,
)


def register(commands: Subcommands) -> None:
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
    repro.add_argument(
        "--no-report",
        dest="report",
        action="store_false",
        help="write records only; rebuild the summaries later with `harness report` (nox -s repro does this once)",
    )
    add_probing_options(repro)
    repro.set_defaults(handler=run_repro)

    listing = commands.add_parser("list", help="list the combinations of versions.toml")
    listing.add_argument("--versions", type=Path, default=None)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=run_list)


def run_repro(args: argparse.Namespace) -> int:
    workspace = Workspace.at(args.root)
    cases = workspace.cases(args.case)
    expanded = load_expanded_matrix(workspace, args.versions, offline=args.offline)
    return repro(args, expanded, cases, select(expanded.matrix, args.only))


def run_expanded(args: argparse.Namespace, expanded: ExpandedMatrix) -> int:
    """``harness repro`` over a matrix expanded already: each Nox session reuses the one the noxfile made.

    ``args`` are the repro command's parsed options; ``--root`` and ``--versions`` are ``expanded``'s.
    """
    cases = expanded.workspace.cases(args.case)
    return repro(args, expanded, cases, select(expanded.matrix, args.only))


def repro(
    args: argparse.Namespace, expanded: ExpandedMatrix, cases: Sequence[Case], combinations: Sequence[Combination]
) -> int:
    workspace, spec, sources = expanded.workspace, expanded.spec, expanded.sources
    prober = make_prober(
        workspace,
        spec,
        sources,
        fresh=args.fresh,
        mode=args.mode,
        repeat=args.repeat,
        preload=args.preload,
        repair=args.repair,
        offline=args.offline,
    )
    planned = plan(cases, combinations, prober, forced=args.force)
    if not planned:
        raise no_probes_error(expanded)
    progress = progress_for(sys.stderr, parallel=args.jobs)
    progress.start(len(planned))
    results = []
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
        if args.report:
            # Written even when interrupted: every finished record is already on disk and belongs in the summary.
            write_reports(workspace, cases)
    reused = sum(1 for r in results if r.reused)
    where = f"summaries in {workspace.reports_dir}/" if args.report else f"records in {workspace.records.root}/"
    print(f"{len(results)} probes ({reused} from stored records); {where}")
    if args.report:
        for case in cases:
            print(f"  {case.id}: {workspace.reports_dir / case.id / 'summary.md'}")
    return 0


def no_probes_error(expanded: ExpandedMatrix) -> ConfigError:
    """Why a run has nothing to probe: the matrix itself is empty, or no case concerns its packages."""
    spec, matrix = expanded.spec, expanded.matrix
    if not matrix.combinations:
        excluded = f" ({len(matrix.excluded)} excluded by [[exclude]])" if matrix.excluded else ""
        return ConfigError(
            f"{spec.source_file}: the ranges and excludes leave no combination{excluded}; "
            "widen a range or drop an [[exclude]] (see `harness list --json`)"
        )
    return ConfigError(
        f"no case concerns the packages of {spec.source_file} ({', '.join(spec.package_names)}); "
        "check the 'packages' list of each case.toml"
    )


def run_list(args: argparse.Namespace) -> int:
    workspace = Workspace.at(args.root)
    spec = workspace.matrix_spec(args.versions)
    matrix = expand_matrix(workspace, spec, package_sources(spec))
    if args.json:
        listing = {
            "combinations": [c.label for c in matrix.combinations],
            "excluded": [c.label for c in matrix.excluded],
        }
        print(json.dumps(listing, indent=2))
    else:
        for combination in matrix.combinations:
            print(combination.label)
    return 0
