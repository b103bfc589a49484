"""The record command: turn a failing script and the environment it failed in into a new case folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness._options import Subcommands
from harness.config import load_case
from harness.record.capture import record_case
from harness.workspace import Workspace


def register(commands: Subcommands) -> None:
    record = commands.add_parser("record", help="turn a failing script into a new case folder")
    record.add_argument("script", type=Path, help="the script that fails")
    record.add_argument("--id", required=True, help="the new case's id (its folder name)")
    record.add_argument("--packages", required=True, help="comma-separated packages the case concerns, e.g. a,b")
    record.add_argument("--python", default=sys.executable, help="interpreter of the failing environment")
    record.add_argument("--title", default=None)
    record.add_argument("--cases-dir", type=Path, default=None, help="default: cases/ of the project")
    record.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    workspace = Workspace.at(args.root)
    recording = record_case(
        args.script,
        args.cases_dir or workspace.cases_dir,
        case_id=args.id,
        packages=[name.strip() for name in args.packages.split(",") if name.strip()],
        python=args.python,
        title=args.title,
    )
    load_case(recording.folder)  # what we wrote must load; a failure here is a bug worth seeing at once
    print(f"recorded {recording.error.type_name}: {recording.error.first_line}")
    print(f"case folder: {recording.folder} (pins: {', '.join(f'{k}=={v}' for k, v in recording.pins.items())})")
    print("Review its [signature] in case.toml, then run: nox -s repro")
    return 0
