"""The culprit command's steps: diff two environments -> isolate the breaking changes -> bisect the culprit."""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from harness._options import Subcommands, add_probing_options
from harness.bisection.command import BisectOptions, list_releases, make_release_probe, print_progress
from harness.bisection.releases import BisectionReport, run_bisection
from harness.culprit.ddmin import CulpritResult, CulpritStatus, Probe, Subset, next_probe
from harness.culprit.report import culprit_markdown, culprit_sentence, culprit_to_json
from harness.files import write_atomically, write_json
from harness.index.interface import PackageIndex
from harness.model.case import Case
from harness.model.changes import EnvironmentDelta, PackageChange, diff_environments, restrict_to
from harness.model.outcome import Outcome
from harness.model.probe_record import ProbeRecord
from harness.pinsources.policy import read_environment_pins
from harness.probing.prober import Prober
from harness.reports.site import write_reports
from harness.workspace import Workspace, make_prober, package_index, package_sources


@dataclass(frozen=True)
class CulpritFinding:
    delta: EnvironmentDelta
    result: CulpritResult
    bisection: BisectionReport | None


def load_delta(old: Path, new: Path, *, only: tuple[str, ...] = ()) -> EnvironmentDelta:
    delta = diff_environments(read_environment_pins(old), read_environment_pins(new))
    return restrict_to(delta, only) if only else delta


def companions_from(record: ProbeRecord, applied: Subset, changes: tuple[PackageChange, ...]) -> set[PackageChange]:
    """Changes the resolver named when it rejected ``applied``: moving them too lets it try again."""
    message = (record.installer_message or "") + " " + record.detail
    named = {change for change in changes if re.search(rf"(?<![\w.-]){re.escape(change.name)}(?![\w.-])", message)}
    return named - set(applied)


def isolate_culprit(case: Case, prober: Prober, delta: EnvironmentDelta) -> CulpritResult:
    """Delta debugging over the changes, with every trial a stored probe and companions learnt from uv."""
    changes = delta.changes
    outcomes: dict[Subset, Outcome] = {}
    companions: dict[PackageChange, set[PackageChange]] = {}
    while True:
        step = next_probe(changes, outcomes, companions=companions)
        if isinstance(step, CulpritResult):
            return step
        record = _trial(case, prober, delta, step)
        outcomes[step.applied] = record.outcome
        if record.outcome is Outcome.UNRESOLVABLE:
            for change in step.applied:
                companions.setdefault(change, set()).update(companions_from(record, step.applied, changes))


def _trial(case: Case, prober: Prober, delta: EnvironmentDelta, step: Probe) -> ProbeRecord:
    pins = delta.environment_with(step.applied)
    label = ", ".join(str(change) for change in sorted(step.applied, key=lambda c: c.name)) or "no change"
    result = prober.probe(case, prober.request_for(case, pins))
    how = "stored record" if result.reused else f"{result.record.timings.total:.1f}s"
    print(f"[culprit] {result.record.outcome.value:<13} with {label} ({how})", file=sys.stderr, flush=True)
    return result.record


def bisect_culprit(
    case: Case,
    prober: Prober,
    index: PackageIndex,
    delta: EnvironmentDelta,
    result: CulpritResult,
) -> BisectionReport | None:
    """When one upgraded package is the culprit, find its first bad release between the two versions."""
    if result.status is not CulpritStatus.ISOLATED or len(result.culprits) != 1:
        return None
    change = result.culprits[0]
    if change.old is None or change.new is None or change.new < change.old:
        return None
    # Companions the culprit could not be installed without stay at their new versions while it is bisected.
    held = tuple(pin for pin in delta.environment_with(result.companions) if pin.name != change.name)
    # No time travel: the end points are then the very trials isolation ran, answered from their records.
    options = BisectOptions(
        package=change.name, good=change.old, bad=change.new, held_overrides=held, time_travel=False
    )
    releases = [r for r in list_releases(index, options) if change.old <= r.version <= change.new]
    return run_bisection(
        case_id=case.id,
        package=change.name,
        releases=[r.version for r in releases],
        probe=make_release_probe(case, prober, releases, options),
        progress=print_progress,
        good=change.old,
        bad=change.new,
        held=held,
    )


def write_culprit(reports_dir: Path, case: Case, finding: CulpritFinding) -> Path:
    first_bad = _first_bad(finding.bisection)
    data = culprit_to_json(finding.result, first_bad=first_bad, delta=finding.delta)
    data["case_id"] = case.id
    stem = reports_dir / "culprit" / case.id
    write_json(stem.with_suffix(".json"), data)
    write_atomically(
        stem.with_suffix(".md"), culprit_markdown(finding.result, first_bad=first_bad, delta=finding.delta)
    )
    return stem.with_suffix(".md")


def culprit_summary(finding: CulpritFinding) -> str:
    return culprit_sentence(finding.result, first_bad=_first_bad(finding.bisection))


def _first_bad(bisection: BisectionReport | None) -> str | None:
    if bisection is None or bisection.regression.first_bad is None:
        return None
    return str(bisection.regression.first_bad)


def register(commands: Subcommands) -> None:
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
    culprit.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    workspace = Workspace.at(args.root)
    (case,) = workspace.cases([args.case])
    delta = load_delta(args.good_env, args.bad_env, only=tuple(args.only))
    spec = workspace.matrix_spec(args.versions)
    sources = package_sources(spec)
    with make_prober(workspace, spec, sources, fresh=args.fresh, mode=args.mode, preload=args.preload) as prober:
        result = isolate_culprit(case, prober, delta)
        bisection = None
        if args.bisect:
            bisection = bisect_culprit(case, prober, package_index(workspace, sources), delta, result)
    finding = CulpritFinding(delta, result, bisection)
    written = write_culprit(workspace.reports_dir, case, finding)
    write_reports(workspace, [case])
    print(culprit_summary(finding))
    print(f"{len(result.trials)} trials; report: {written}")
    return 0
