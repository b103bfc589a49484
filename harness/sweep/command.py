"""The sweep command: for one set of versions, probe every parameter combination of the case's grid."""

from __future__ import annotations

import argparse
import sys

from harness._options import Subcommands, add_probing_options, add_with_option, probing_settings, recorded_pins_with
from harness.errors import ConfigError
from harness.reports.progress import progress_for
from harness.reports.site import write_reports
from harness.workspace import Workspace, make_prober, package_sources


def register(commands: Subcommands) -> None:
    sweep = commands.add_parser(
        "sweep", help="which parameter combinations of a case reproduce, for one set of versions"
    )
    sweep.add_argument("case", help="case id or folder")
    add_with_option(sweep, what="versions to sweep with")
    add_probing_options(sweep)
    sweep.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    workspace = Workspace.at(args.root)
    (case,) = workspace.cases([args.case])
    if not case.sweep:
        raise ConfigError(f"case {case.id} declares no [sweep] grid in its case.toml")
    spec = workspace.matrix_spec(args.versions)
    sources = package_sources(spec)
    pins = recorded_pins_with(case, args.with_)
    prober = make_prober(workspace, spec, sources, **probing_settings(args))
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
    return 0
