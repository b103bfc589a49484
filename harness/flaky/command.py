"""The check-flaky command: one environment (the recorded one, or --with versions), N runs, one verdict."""

from __future__ import annotations

import argparse

from harness._options import Subcommands, add_probing_options, add_with_option, probing_settings, recorded_pins_with
from harness.flaky.advice import judge
from harness.workspace import Workspace, make_prober, package_sources

DEFAULT_RUNS = 10


def register(commands: Subcommands) -> None:
    check = commands.add_parser(
        "check-flaky",
        help="run a case many times in one environment: is it deterministic, or how many runs does it need?",
    )
    check.add_argument("case", help="case id or folder")
    add_with_option(check, what="versions to check with")
    add_probing_options(check)
    check.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    workspace = Workspace.at(args.root)
    (case,) = workspace.cases([args.case])
    spec = workspace.matrix_spec(args.versions)
    pins = recorded_pins_with(case, args.with_)
    # An A/A check needs many runs even for a case that asks for one; --repeat sets how many.
    runs = args.repeat or max(case.repeat, DEFAULT_RUNS)
    settings = probing_settings(args)
    settings["repeat"] = runs
    prober = make_prober(workspace, spec, package_sources(spec), **settings)
    with prober:
        result = prober.probe(case, prober.request_for(case, pins))
    record = result.record
    check = judge(record.outcome, record.repeats, record.detail)
    versions = ", ".join(str(pin) for pin in record.request.pins) or "the recorded environment"
    reused = " (from a stored record)" if result.reused else ""
    print(f"{case.id} with {versions}: {check.message}{reused}")
    return check.determinism.exit_code
