"""The command line: the root parser and dispatch; each command's options and steps live in its own package."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from harness import __version__, process
from harness.bisection import command as bisect_command
from harness.culprit import command as culprit_command
from harness.errors import HarnessError
from harness.flaky import command as flaky_command
from harness.gate import command as gate_command
from harness.record import command as record_command
from harness.reports import command as reports_command
from harness.repro import command as repro_command
from harness.sweep import command as sweep_command

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, as a shell reports it

COMMANDS = (
    repro_command,
    reports_command,
    bisect_command,
    culprit_command,
    gate_command,
    sweep_command,
    record_command,
    flaky_command,
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


class Terminated(BaseException):
    """SIGTERM arrived: stop as Ctrl-C would, keeping every finished record and writing the summaries."""


def _stop_on(signum: int, _frame: object) -> None:
    # End every running replay now, whichever thread waits on it, then unwind the main thread; the
    # commands' finally blocks write the summaries from the records already stored.
    process.stop_all()
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        for signum in previous:
            signal.signal(signum, _stop_on)
    try:
        return _dispatch(args)
    finally:
        if in_main_thread:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        process.resume()


def _dispatch(args: argparse.Namespace) -> int:
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
    except (KeyboardInterrupt, Terminated, process.RunInterrupted) as exc:
        process.stop_all()
        print("harness: interrupted; every finished record is kept in reports/records/", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
