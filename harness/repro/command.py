"""The repro and list commands: every case in every combination of versions.toml, and the combinations."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from harness._options import Subcommands, add_jobs_option, add_probing_options, probing_settings
from harness.errors import ConfigError
from harness.model.case import Case
from harness.model.matrix import Combination, MatrixSpec, MissingPython
from harness.probing.prober import Prober, ProbeResult
from harness.probing.record_store import RecordStore
from harness.reports.progress import progress_for
from harness.reports.site import write_reports
from harness.repro.ahead import SessionLookahead
from harness.repro.plan import PlannedProbe, execute, missing_python_record, plan, select
from harness.repro.shards import Estimate, Shard, assign, estimate, parse_shard, shard_costs
from harness.workspace import (
    ExpandedMatrix,
    KeptProbers,
    Workspace,
    expand_matrix,
    load_expanded_matrix,
    make_prober,
    package_sources,
    python_available,
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
    add_jobs_option(repro, default=None, what="probes to run at once; under nox, the queued sessions' probes run ahead")
    repro.add_argument(
        "--shard",
        type=_shard_argument,
        default=None,
        metavar="K/N",
        help="run only shard K of N: combinations balanced by their stored timings, as `harness list --shards N`",
    )
    _add_costs_option(repro)
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
    listing.add_argument("--json", action="store_true", help="with a cost estimate per combination, from records")
    listing.add_argument(
        "--shards", type=int, default=None, metavar="N", help="also list the combinations of each of N shards"
    )
    _add_costs_option(listing)
    listing.set_defaults(handler=run_list)


def run_repro(args: argparse.Namespace) -> int:
    workspace = Workspace.at(args.root)
    cases = workspace.cases(args.case)
    expanded = load_expanded_matrix(workspace, args.versions, offline=args.offline)
    return repro(args, expanded, cases, select(expanded.matrix, args.only))


def run_expanded(
    args: argparse.Namespace,
    expanded: ExpandedMatrix,
    *,
    kept: KeptProbers | None = None,
    queued: Sequence[str] = (),
) -> int:
    """``harness repro`` over a matrix expanded already: each Nox session reuses the one the noxfile made.

    ``args`` are the repro command's parsed options; ``--root`` and ``--versions`` are ``expanded``'s. With
    ``kept``, the prober (and its fork workers) outlives this command, for the next session to reuse, and the
    probes of the ``queued`` combinations (the sessions Nox runs next) start ahead on the idle cores.
    """
    cases = expanded.workspace.cases(args.case)
    return repro(args, expanded, cases, select(expanded.matrix, args.only), kept=kept, queued=queued)


def repro(
    args: argparse.Namespace,
    expanded: ExpandedMatrix,
    cases: Sequence[Case],
    combinations: Sequence[Combination],
    *,
    kept: KeptProbers | None = None,
    queued: Sequence[str] = (),
) -> int:
    workspace, spec, sources = expanded.workspace, expanded.spec, expanded.sources
    make = kept.prober if kept is not None else make_prober
    prober = make(workspace, spec, sources, **probing_settings(args))
    planned = plan(cases, combinations, prober, forced=args.force)
    if not planned:
        raise no_probes_error(expanded)
    shard: Shard | None = args.shard
    if shard is not None:
        timed = RecordStore(args.costs_from) if args.costs_from else prober.store
        chosen = set(shards_of(expanded, cases, prober, timed, shard.count, forced=args.force)[shard.index - 1])
        planned = [item for item in planned if item.combination.label in chosen]
    missing = missing_pythons(prober, spec, {item.request.python for item in planned})
    progress = progress_for(sys.stderr, parallel=args.jobs)
    progress.start(len(planned))
    results: list[ProbeResult] = []

    def started(item: PlannedProbe) -> None:
        progress.probe_started(item.label)

    def finished(item: PlannedProbe, result: ProbeResult) -> None:
        results.append(result)
        record = result.record
        progress.probe_finished(item.label, record.outcome, record.timings.total, result.reused)

    try:
        with contextlib.ExitStack() as stack:
            if kept is None:
                stack.enter_context(prober)  # a kept prober's workers outlive this command
            for item in planned:
                if item.request.python in missing:
                    started(item)
                    finished(item, record_missing_python(prober, item, missing[item.request.python]))
            runnable = [item for item in planned if item.request.python not in missing]
            if kept is not None and shard is None:
                ahead = kept.companion(prober, lambda: SessionLookahead(prober, args.jobs))
                following = queued_probes(expanded, cases, prober, queued, forced=args.force)
                for item in runnable:
                    ahead.start([*runnable, *following])
                    started(item)
                    finished(item, ahead.answer(item))
                ahead.start(following)  # the next session's probes run while Nox moves on to it
            else:
                execute(runnable, prober, jobs=args.jobs, on_start=started, on_done=finished)
    finally:
        progress.finish()
        if args.report:
            # Written even when interrupted: every finished record is already on disk and belongs in the summary.
            write_reports(workspace, cases)
    reused = sum(1 for r in results if r.reused)
    where = f"summaries in {workspace.reports_dir}/" if args.report else f"records in {workspace.records.root}/"
    prefix = f"shard {shard}: " if shard is not None else ""
    print(f"{prefix}{len(results)} probes ({reused} from stored records); {where}")
    if args.report:
        for case in cases:
            print(f"  {case.id}: {workspace.reports_dir / case.id / 'summary.md'}")
    return 0


def queued_probes(
    expanded: ExpandedMatrix, cases: Sequence[Case], prober: Prober, queued: Sequence[str], *, forced: bool
) -> list[PlannedProbe]:
    """The probes of the queued combinations that can run here: a missing Python is left to its own session."""
    by_label = {c.label: c for c in expanded.matrix.combinations}
    planned = plan(cases, [by_label[label] for label in queued if label in by_label], prober, forced=forced)
    if not expanded.spec.pythons:
        return planned
    available = {p for p in {item.request.python for item in planned} if python_available(prober, p) is None}
    return [item for item in planned if item.request.python in available]


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


def missing_pythons(prober: Prober, spec: MatrixSpec, pythons: Iterable[str]) -> dict[str, str]:
    """The Pythons of the axis that uv cannot find, with its reason; missing-python = "error" stops here.

    Without a Python axis nothing is checked up front: the one Python's absence stops the first probe, as before.
    """
    if not spec.pythons:
        return {}
    missing = {}
    for python in sorted(set(pythons)):
        reason = python_available(prober, python)
        if reason is not None:
            missing[python] = reason
    if missing and spec.missing_python is MissingPython.ERROR:
        python, reason = next(iter(missing.items()))
        raise ConfigError(
            f"{spec.source_file}: python {python} is on the Python axis but {reason[0].lower()}{reason[1:]}; "
            f'install it (uv python install {python}) or set missing-python = "record"'
        )
    return missing


def record_missing_python(prober: Prober, item: PlannedProbe, reason: str) -> ProbeResult:
    """The stored record of a probe whose Python is missing, or a new INSTALL_FAILED one that says so."""
    stored = prober.stored(item.request)
    if stored is not None:
        return ProbeResult(stored, reused=True)
    record = missing_python_record(item.request, prober.sources.describe(), reason)
    prober.store.put(record)
    return ProbeResult(record, reused=False)


def shards_of(
    expanded: ExpandedMatrix,
    cases: Sequence[Case],
    prober: Prober,
    timed: RecordStore,
    count: int,
    *,
    forced: bool = False,
) -> tuple[tuple[str, ...], ...]:
    """The whole matrix's combinations in ``count`` shards, so that every session and job agrees on them."""
    return assign(estimates(expanded, cases, prober, timed, forced=forced), count)


def estimates(
    expanded: ExpandedMatrix, cases: Sequence[Case], prober: Prober, timed: RecordStore, *, forced: bool = False
) -> list[Estimate]:
    """Each combination's expected seconds: the sum of its probes' timings in ``timed`` (the median when unknown).

    A combination counts as known only when every one of its probes has a record.
    """
    costs: dict[str, float | None] = {c.label: 0.0 for c in expanded.matrix.combinations}
    for item in plan(cases, expanded.matrix.combinations, prober, forced=forced):
        record = timed.get(item.request.case_id, item.request.key)
        label = item.combination.label
        seen = costs[label]
        costs[label] = None if record is None or seen is None else seen + record.timings.total
    return estimate(list(costs.items()))


def run_list(args: argparse.Namespace) -> int:
    workspace = Workspace.at(args.root)
    spec = workspace.matrix_spec(args.versions)
    sources = package_sources(spec)
    matrix = expand_matrix(workspace, spec, sources)
    if not args.json and args.shards is None:
        for combination in matrix.combinations:
            print(combination.label)
        return 0
    if args.shards is not None and args.shards < 1:
        raise ConfigError(f"--shards: expected a number of shards of at least 1; got {args.shards}")
    expanded = ExpandedMatrix(workspace, spec, sources, matrix)
    prober = make_prober(workspace, spec, sources, fresh=False)
    timed = RecordStore(args.costs_from) if args.costs_from else prober.store
    found = estimates(expanded, workspace.cases(), prober, timed)
    shards = assign(found, args.shards) if args.shards is not None else ()
    if not args.json:
        for index, members in enumerate(shards, start=1):
            print(f"shard {index}/{len(shards)}: {', '.join(members)}")
        return 0
    listing: dict[str, object] = {
        "combinations": [c.label for c in matrix.combinations],
        "excluded": [c.label for c in matrix.excluded],
        "estimates": [{"combination": e.label, "seconds": round(e.seconds, 3), "known": e.known} for e in found],
    }
    if shards:
        listing["shards"] = [
            {"shard": f"{index}/{len(shards)}", "seconds": round(seconds, 3), "combinations": list(members)}
            for index, (members, seconds) in enumerate(zip(shards, shard_costs(found, shards), strict=True), start=1)
        ]
    print(json.dumps(listing, indent=2))
    return 0


def _add_costs_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--costs-from",
        type=Path,
        default=None,
        metavar="RECORDS",
        help="a records folder (a previous run's reports/records) to estimate each combination's cost from "
        "(default: this project's records)",
    )


def _shard_argument(text: str) -> Shard:
    try:
        return parse_shard(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--shard: ")) from None
