"""The report and export commands: rebuild every summary from the records; write a paste-ready bug report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness._options import Subcommands, add_with_option
from harness.errors import ConfigError
from harness.files import write_atomically
from harness.model.outcome import Outcome
from harness.model.pins import Pin
from harness.probing.record_store import report_unreadable
from harness.reports.export import install_command_for, render_bug_report
from harness.reports.site import read_bisections, write_reports
from harness.workspace import Workspace


def register(commands: Subcommands) -> None:
    report = commands.add_parser("report", help="rebuild summaries from every stored record")
    report.add_argument("--case", action="append", default=[])
    report.set_defaults(handler=run_report)

    export = commands.add_parser("export", help="write a paste-ready upstream bug report from a reproduced record")
    export.add_argument("case", help="case id or folder")
    add_with_option(export, what="choose the record with these versions", default="the newest reproduction")
    export.add_argument("--output", type=Path, default=None, help="default reports/<case>/bug-report.md")
    export.set_defaults(handler=run_export)


def run_report(args: argparse.Namespace) -> int:
    workspace = Workspace.at(args.root)
    cases = workspace.cases(args.case)
    for summary in write_reports(workspace, cases):
        print(f"{summary.case_id}: {len(summary.cells)} combinations -> reports/{summary.case_id}/summary.md")
    return 0


def run_export(args: argparse.Namespace) -> int:
    workspace = Workspace.at(args.root)
    (case,) = workspace.cases([args.case])
    wanted = {Pin.parse(text) for text in args.with_}
    store = workspace.records
    candidates = [
        record
        for record in store.records(case.id)
        if record.outcome is Outcome.REPRODUCED and wanted <= set(record.request.pins)
    ]
    report_unreadable(store)
    if not candidates:
        raise ConfigError(
            f"no REPRODUCED record of {case.id} with {', '.join(map(str, wanted)) or 'any versions'}; "
            "run nox -s repro first"
        )
    record = max(candidates, key=lambda r: (r.request.parameters == case.parameters, r.started_at))
    bisections = read_bisections(sorted((workspace.reports_dir / "bisect").glob(f"{case.id}--*.json")))
    text = render_bug_report(
        case,
        record,
        replay_source=case.replay_file.read_text(encoding="utf-8"),
        install_command=install_command_for(record, order=case.packages),
        bisection=bisections[0] if bisections else None,
    )
    target = args.output or workspace.reports_dir / case.id / "bug-report.md"
    write_atomically(target, text)
    print(text)
    print(f"(written to {target})", file=sys.stderr)
    return 0
