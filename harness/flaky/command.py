"""The check-flaky command: one environment (the recorded one, or --with versions), N runs, one verdict."""

from __future__ import annotations

import argparse

from harness._options import Subcommands, add_probing_options
from harness.flaky.advice import judge
from harness.model.pins import Pin
from harness.workspace import Workspace, make_prober, package_sources

DEFAULT_RUNS = 10


def register(commands: Subcommands) -> None:
    check = commands.add_parser(
        "check-flaky",
        help="run a case many times in one environment: is it deterministic, or how many runs does it need?",
    )
    check.add_argument("case", help="case id or folder")
    check.add_argument(
        "--with",
        dest="with_",
        action="append",
        default=[],
        metavar="NAME==VERSION",
        help="versions to check with (default: the case's recorded environment)",
    )
    add_probing_options(check)
    check.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    workspace = Workspace.at(args.root)
    (case,) = workspace.cases([args.case])
    spec = workspace.matrix_spec(args.versions)
    overrides = {pin.name: pin for pin in (Pin.parse(text) for text in args.with_)}
    pins = tuple({**{pin.name: pin for pin in case.recorded.pins}, **overrides}.values())
    # An A/A check needs many runs even for a case that asks for one; --repeat sets how many.
    runs = args.repeat or max(case.repeat, DEFAULT_RUNS)
    prober = make_prober(
        workspace, spec, package_sources(spec), fresh=args.fresh, mode=args.mode, repeat=runs, preload=args.preload
    )
    with prober:
        result = prober.probe(case, prober.request_for(case, pins))
    record = result.record
    check = judge(record.outcome, record.repeats, record.detail)
    versions = ", ".join(str(pin) for pin in record.request.pins) or "the recorded environment"
    reused = " (from a stored record)" if result.reused else ""
    print(f"{case.id} with {versions}: {check.message}{reused}")
    return check.determinism.exit_code
