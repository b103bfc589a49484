"""Options that several commands share, defined once so that one idea has one flag name everywhere."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias, TypedDict

from harness.model.case import Case
from harness.model.pins import Pin
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
        "--no-repair",
        dest="repair",
        action="store_false",
        help="do not add a distribution that a probe fails without (ModuleNotFoundError for a module no "
        "installed distribution provides); by default it is found on the index, added unpinned and recorded",
    )
    parser.add_argument(
        "--preload",
        action="append",
        default=[],
        metavar="DISTRIBUTION",
        help=f"with --mode fork: distributions whose modules the worker imports once (default: {DEFAULT_PRELOAD[0]})",
    )
    parser.add_argument(
        "--repeat",
        type=positive_count,
        default=None,
        metavar="N",
        help="run the replay N times per probe, each in its own process (default: the case's repeat, else 1); "
        "some runs reproducing and others not is FLAKY",
    )


def positive_count(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number of runs")
    return value


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


def add_jobs_option(parser: argparse.ArgumentParser, *, default: int | None, what: str) -> None:
    """``--jobs N``: how many probes may run at once (``default`` None means one per core)."""
    cores = os.cpu_count() or 1
    parser.add_argument(
        "--jobs",
        type=int,
        default=cores if default is None else default,
        help=f"{what} (default {'one per core: ' + str(cores) if default is None else default})",
    )


class ProbingSettings(TypedDict):
    """The shared probing options, as ``make_prober`` takes them."""

    fresh: bool
    mode: str
    preload: Sequence[str]
    repeat: int | None
    repair: bool
    offline: bool


def probing_settings(args: argparse.Namespace) -> ProbingSettings:
    """What ``add_probing_options`` parsed, for ``make_prober(workspace, spec, sources, **settings)``: one
    place, so that no command forgets an option another honours."""
    return ProbingSettings(
        fresh=args.fresh,
        mode=args.mode,
        preload=tuple(args.preload),
        repeat=args.repeat,
        repair=args.repair,
        offline=args.offline,
    )


def add_with_option(
    parser: argparse.ArgumentParser, *, what: str, default: str = "the case's recorded environment"
) -> None:
    """``--with NAME==VERSION`` (repeatable): versions to use instead of the case's recorded ones."""
    parser.add_argument(
        "--with",
        dest="with_",
        action="append",
        default=[],
        metavar="NAME==VERSION",
        help=f"{what} (default: {default})",
    )


def recorded_pins_with(case: Case, texts: Sequence[str]) -> tuple[Pin, ...]:
    """The case's recorded pins, with those named by ``--with`` in their place (and any others added)."""
    overrides = {pin.name: pin for pin in (Pin.parse(text) for text in texts)}
    return tuple({**{pin.name: pin for pin in case.recorded.pins}, **overrides}.values())
