"""The gate command: read candidates -> static check -> live probes -> decide -> write outputs."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName

from harness._options import Subcommands, add_different_error_option, add_probing_options
from harness.config import load_acknowledgements
from harness.errors import ConfigError
from harness.files import write_atomically
from harness.gate.acknowledgements import Acknowledgement
from harness.gate.formats import github_annotations, human_summary, junit_xml, markdown_summary
from harness.gate.policy import (
    GateDecision,
    LiveResult,
    decide,
    static_findings,
    usage_decision,
)
from harness.model.case import Case
from harness.model.known_bad import KNOWN_BAD_FILE, KnownBadRange, known_bad_from_json
from harness.model.pins import Pin, pin_set
from harness.pinsources.policy import environment_candidates, merge_candidates, parse_candidate_options, read_candidates
from harness.probing.prober import Prober
from harness.workspace import Workspace, make_prober, package_sources


@dataclass(frozen=True)
class CandidateSources:
    candidates: tuple[str, ...] = ()
    files: tuple[Path, ...] = ()
    current_environment: bool = False
    extras: tuple[str, ...] = ()


def read_candidate_pins(sources: CandidateSources, watched: set[NormalizedName]) -> tuple[Pin, ...]:
    """Candidate versions of the watched packages; explicit --candidate flags override files."""
    groups: list[tuple[Pin, ...]] = []
    if sources.current_environment:
        groups.append(environment_candidates(watched=watched))
    for path in sources.files:
        extras = sources.extras if path.name == "pyproject.toml" else ()
        groups.append(read_candidates(path, extras=extras, watched=watched))
    groups.append(parse_candidate_options(sources.candidates, watched=None))
    pins = merge_candidates(*groups)
    if not pins:
        raise ConfigError(
            "no candidate versions: give --candidate NAME==VERSION or a requirements, pyproject.toml, uv.lock or "
            f"pylock.toml file that pins one of {', '.join(sorted(watched))}"
        )
    return pins


def load_known_bad(path: Path) -> tuple[KnownBadRange, ...]:
    if not path.is_file():
        return ()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object with 'schema' and 'ranges'")
    return known_bad_from_json(data, str(path))


def load_accepted(path: Path | None, default: Path) -> tuple[Acknowledgement, ...]:
    if path is not None:
        return load_acknowledgements(path)
    return load_acknowledgements(default, missing_ok=True)


def environment_for(case: Case, candidates: Sequence[Pin]) -> tuple[Pin, ...]:
    """The candidates for the case's packages; the packages they do not name stay at the recorded versions.

    Holding the rest at what the case was recorded with keeps a one-package upgrade a one-package change,
    instead of letting the resolver move (and download) everything else at the same time.
    """
    chosen = {pin.name: pin for pin in candidates if pin.name in case.packages}
    for pin in case.recorded.pins:
        chosen.setdefault(pin.name, pin)
    return pin_set(chosen.values())


def relevant_cases(cases: Sequence[Case], candidates: Sequence[Pin]) -> list[Case]:
    names = {pin.name for pin in candidates}
    return [case for case in cases if case.concerns(names)]


def probe_live(cases: Sequence[Case], candidates: Sequence[Pin], prober: Prober) -> list[LiveResult]:
    results = []
    for case in cases:
        request = prober.request_for(case, environment_for(case, candidates))
        record = prober.probe(case, request).record
        results.append(
            LiveResult(
                case_id=case.id,
                case_title=case.title,
                environment=request.pins,
                outcome=record.outcome,
                detail=record.detail,
                error_type=record.error_type,
                error_message=record.error_message,
                record_key=record.key,
                repairs=tuple(repair.describe() for repair in record.repairs),
            )
        )
    return results


@dataclass(frozen=True)
class GateOutputs:
    junit: Path | None = None
    markdown: Path | None = None
    github_annotations: bool = False


def write_outputs(decision: GateDecision, outputs: GateOutputs) -> str:
    """Write the requested files; return what goes to standard output."""
    if outputs.junit is not None:
        write_atomically(outputs.junit, junit_xml(decision))
    if outputs.markdown is not None:
        write_atomically(outputs.markdown, markdown_summary(decision))
    text = human_summary(decision)
    if outputs.github_annotations:
        annotations = github_annotations(decision)
        text = f"{annotations}\n{text}" if annotations else text
    return text


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def register(commands: Subcommands) -> None:
    gate = commands.add_parser(
        "gate",
        help="does any recorded case reproduce with these candidate versions? exit 0 clear, 1 failed, "
        "2 bad usage, 3 undecided",
    )
    gate.add_argument("--candidate", action="append", default=[], metavar="NAME==VERSION")
    gate.add_argument(
        "--file",
        "--requirements",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="requirements file, pyproject.toml, uv.lock or pylock.toml with the candidate versions (repeatable)",
    )
    gate.add_argument("--extra", action="append", default=[], help="pyproject optional-dependency group to include")
    gate.add_argument("--current-environment", action="store_true", help="take candidates from this interpreter")
    gate.add_argument("--case", action="append", default=[], help="only these cases (default: all that apply)")
    gate.add_argument("--known-bad", type=Path, default=None, help="known-bad ranges (default reports/known-bad.json)")
    gate.add_argument("--accept", type=Path, default=None, help="acknowledged regressions (default gate.toml)")
    gate.add_argument("--static-only", action="store_true", help="only compare with known-bad ranges; build nothing")
    gate.add_argument("--strict", action="store_true", help="an undecided gate (exit 3) fails (exit 1)")
    add_different_error_option(gate, old_name="--different-error-fails")
    gate.add_argument("--junit", type=Path, default=None, help="write JUnit XML here")
    gate.add_argument("--markdown", type=Path, default=None, help="write a Markdown summary here")
    gate.add_argument("--github", action="store_true", help="print GitHub Actions annotations (automatic in Actions)")
    add_probing_options(gate)
    gate.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    workspace = Workspace.at(args.root)
    outputs = GateOutputs(args.junit, args.markdown, args.github or os.environ.get("GITHUB_ACTIONS") == "true")
    try:
        cases = workspace.cases(args.case)
        watched = {name for case in cases for name in case.packages}
        candidates = read_candidate_pins(
            CandidateSources(tuple(args.candidate), tuple(args.file), args.current_environment, tuple(args.extra)),
            watched,
        )
        ranges = load_known_bad(args.known_bad or workspace.reports_dir / KNOWN_BAD_FILE)
        accepted = load_accepted(args.accept, workspace.root / "gate.toml")
    except ConfigError as exc:
        # Still write the JUnit/Markdown files, so a CI step that uploads them shows why the gate refused.
        print(write_outputs(usage_decision(str(exc)), outputs), file=sys.stderr)
        raise
    static = static_findings(candidates, ranges)
    live: list[LiveResult] = []
    if not args.static_only:
        spec = workspace.matrix_spec(args.versions)
        with make_prober(
            workspace,
            spec,
            package_sources(spec),
            fresh=args.fresh,
            mode=args.mode,
            repair=args.repair,
            offline=args.offline,
        ) as prober:
            live = probe_live(relevant_cases(cases, candidates), candidates, prober)
    decision = decide(
        static, live, accepted, today(), args.strict, different_error_fails=args.different_error_is_failure
    )
    print(write_outputs(decision, outputs))
    return decision.exit_code
