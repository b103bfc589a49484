"""The command line: the root parser and dispatch; each command's options and steps live in its own package."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from harness import __version__
from harness.bisection import command as bisect_command
from harness.culprit import command as culprit_command
from harness.errors import HarnessError
from harness.gate import command as gate_command
from harness.record import command as record_command
from harness.reports import command as reports_command
from harness.repro import command as repro_command
from harness.sweep import command as sweep_command

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

COMMANDS = (
    repro_command,
    reports_command,
    bisect_command,
    culprit_command,
    gate_command,
    sweep_command,
    record_command,
)
"""Each module registers its subcommands (``register``) with a ``handler`` that returns the exit status."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness",
        description="Replay recorded failures across dependency versions, bisect them, and gate upgrades.",
    )
    parser.add_argument("--version", action="version", version=f"harness {__version__}")
    parser.add_argument("--root", type=Path, default=None, help="project folder (default: current folder)")
    parser.add_argument("--verbose", action="store_true", help="show tracebacks for errors")
    commands = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.register(commands)
    return parser


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
