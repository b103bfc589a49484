"""Options that several commands share, defined once so that one idea has one flag name everywhere."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from harness.runners.forkserver import DEFAULT_PRELOAD

if TYPE_CHECKING:
    Subcommands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
else:  # the class is generic only to type checkers
    Subcommands = argparse._SubParsersAction


def add_probing_options(parser: argparse.ArgumentParser) -> None:
    """The options every command that probes shares: sources, record reuse, and how cases run."""
    parser.add_argument(
        "--versions", type=Path, default=None, help="versions.toml to take Python and package sources from"
    )
    parser.add_argument("--fresh", action="store_true", help="probe again even where a stored record exists")
    parser.add_argument(
        "--offline",
        action="store_true",
        help="list releases from the index listings cached under the harness home only; never ask the index",
    )
    parser.add_argument(
        "--mode",
        choices=("fork", "isolated"),
        default="fork",
        help="fork (default): share pre-imported torch across probes, falling back to isolated for each probe "
        "where it cannot prove the shared modules identical; isolated: always a fresh interpreter per probe "
        "(each record says how it ran)",
    )
    parser.add_argument(
        "--preload",
        action="append",
        default=[],
        metavar="DISTRIBUTION",
        help=f"with --mode fork: distributions whose modules the worker imports once (default: {DEFAULT_PRELOAD[0]})",
    )


def add_different_error_option(parser: argparse.ArgumentParser, *, old_name: str) -> None:
    """``--different-error-is-failure``: another exception counts as the recorded failure.

    ``old_name`` is the flag this command used before the name was shared; it stays as an alias.
    """
    parser.add_argument(
        "--different-error-is-failure",
        old_name,
        dest="different_error_is_failure",
        action="store_true",
        help="count a case that fails with another error as the recorded failure "
        "(bisect: a bad release; gate: a blocked upgrade)",
    )
