"""The culprit command's steps: diff two environments -> isolate the breaking changes -> bisect the culprit."""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from harness._options import Subcommands, add_jobs_option, add_probing_options, probing_settings
from harness.bisection.command import list_releases, make_release_probe, release_progress
from harness.bisection.options import BisectOptions
from harness.bisection.progress import CommandProgress
from harness.bisection.releases import BisectionReport, run_bisection
from harness.culprit.ddmin import CulpritResult, CulpritStatus, Subset, isolate
from harness.culprit.report import culprit_markdown, culprit_sentence, culprit_to_json
from harness.files import write_atomically, write_json
from harness.index.interface import PackageIndex
from harness.model.case import Case
from harness.model.changes import EnvironmentDelta, PackageChange, diff_environments, restrict_to
from harness.model.outcome import Outcome
from harness.model.probe_record import ProbeRecord
from harness.pinsources.policy import read_environment_pins
from harness.probing.lookahead import Lookahead
from harness.probing.prober import Prober, ProbeResult
from harness.reports.progress import progress_for
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


def isolate_culprit(
    case: Case,
    prober: Prober,
    delta: EnvironmentDelta,
    *,
    progress: CommandProgress | None = None,
    jobs: int = 1,
) -> CulpritResult:
    """Delta debugging over the changes, with every trial a stored probe and companions learnt from uv.

    With ``jobs`` > 1 the trials the search may ask for next run ahead, on that many threads at most.
    """
    trials = _Trials(case, prober, delta, progress)
    with Lookahead(trials.run, jobs) as ahead:
        trials.ahead = ahead
        return isolate(delta.changes, trials.test, needs=trials.needs, ahead=ahead.start_next, width=jobs)


class _Trials:
    """Runs each trial as a probe and keeps its record, from which the resolver's wishes are read back."""

    def __init__(self, case: Case, prober: Prober, delta: EnvironmentDelta, progress: CommandProgress | None) -> None:
        self.case = case
        self.prober = prober
        self.delta = delta
        self.progress = progress
        self.records: dict[Subset, ProbeRecord] = {}
        self.ahead: Lookahead[Subset, ProbeResult] | None = None

    def run(self, applied: Subset) -> ProbeResult:
        """One trial's probe; safe on any thread (the prober and its store are)."""
        pins = self.delta.environment_with(applied)
        return self.prober.probe(self.case, self.prober.request_for(self.case, pins))

    def test(self, applied: Subset) -> Outcome:
        label = "culprit trial with " + (
            ", ".join(str(change) for change in sorted(applied, key=lambda c: c.name)) or "no change"
        )
        if self.progress is not None:
            self.progress.probe_started(label)
        result = self.ahead.answer(applied) if self.ahead is not None else self.run(applied)
        record = result.record
        if self.progress is not None:
            self.progress.probe_finished(label, record.outcome, record.timings.total, result.reused)
        self.records[applied] = record
        return record.outcome

    def needs(self, applied: Subset) -> set[PackageChange]:
        return companions_from(self.records[applied], applied, self.delta.changes)


def bisect_culprit(
    case: Case,
    prober: Prober,
    index: PackageIndex,
    delta: EnvironmentDelta,
    result: CulpritResult,
    *,
    progress: CommandProgress | None = None,
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
        handler=release_progress(progress, change.name),
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
    add_jobs_option(culprit, default=None, what="trials to run at once: the next ones the search may need run ahead")
    add_probing_options(culprit)
    culprit.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    workspace = Workspace.at(args.root)
    (case,) = workspace.cases([args.case])
    delta = load_delta(args.good_env, args.bad_env, only=tuple(args.only))
    spec = workspace.matrix_spec(args.versions)
    sources = package_sources(spec)
    with (
        make_prober(workspace, spec, sources, **probing_settings(args)) as prober,
        CommandProgress(progress_for(sys.stderr)) as progress,
    ):
        result = isolate_culprit(case, prober, delta, progress=progress, jobs=max(1, args.jobs))
        bisection = None
        if args.bisect:
            index = package_index(workspace, sources, offline=args.offline)
            bisection = bisect_culprit(case, prober, index, delta, result, progress=progress)
    finding = CulpritFinding(delta, result, bisection)
    written = write_culprit(workspace.reports_dir, case, finding)
    write_reports(workspace, [case])
    print(culprit_summary(finding))
    print(f"{len(result.trials)} trials; report: {written}")
    return 0
