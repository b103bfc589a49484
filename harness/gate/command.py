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

from harness._options import Subcommands, add_different_error_option, add_probing_options, probing_settings
from harness.config import load_acknowledgements
from harness.errors import ConfigError, EnvironmentBuildError, HarnessError, PackageIndexError
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
from harness.model.matrix import MatrixSpec
from harness.model.outcome import Outcome
from harness.model.pins import Pin, pin_set
from harness.pinsources.policy import environment_candidates, merge_candidates, parse_candidate_options, read_candidates
from harness.probing.prober import Prober
from harness.probing.record_store import report_unreadable
from harness.workspace import Workspace, make_prober, package_sources


class UnwritableOutputError(HarnessError):
    """A file the gate must write (a record, the JUnit or Markdown report) cannot be written."""


# Errors of the live layer that say nothing about the candidates (no interpreter, the index down): the gate's
# table calls such a case undecided (exit 3), not a usage error.
_UNDECIDED_ERRORS = (EnvironmentBuildError, PackageIndexError)


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


def load_known_bad(path: Path, *, explicit: bool = False) -> tuple[KnownBadRange, ...]:
    """The known-bad ranges; a missing default file means none, a missing file the user named is an error."""
    if not path.exists() and not explicit:
        return ()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found (given with --known-bad)") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a known-bad file") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object with 'schema' and 'ranges'")
    return known_bad_from_json(data, str(path))


def load_accepted(path: Path | None, default: Path) -> tuple[Acknowledgement, ...]:
    if path is not None:
        return load_acknowledgements(path)
    return load_acknowledgements(default, missing_ok=True)


def check_acknowledged_cases(accepted: Sequence[Acknowledgement], known: set[str], source: Path) -> None:
    """An acknowledgement for a case that does not exist is an error: a typo must not pass for a silent no-op."""
    unknown = sorted({ack.case_id for ack in accepted} - known)
    if unknown:
        raise ConfigError(
            f"{source}: acknowledges case {', '.join(map(repr, unknown))}, which is not a case "
            f"(known: {', '.join(sorted(known)) or 'none'}); fix the id or remove the entry"
        )


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
    """One live result per case; a case the live layer cannot serve (``_UNDECIDED_ERRORS``) is UNAVAILABLE."""
    results = []
    for case in cases:
        request = prober.request_for(case, environment_for(case, candidates))
        try:
            record = prober.probe(case, request).record
        except _UNDECIDED_ERRORS as exc:
            results.append(LiveResult(case.id, case.title, request.pins, Outcome.UNAVAILABLE, str(exc)))
            continue
        except OSError as exc:
            raise _unwritable(exc) from None
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


def _unwritable(exc: OSError, target: Path | None = None) -> UnwritableOutputError:
    where = target or exc.filename or "an output file"
    return UnwritableOutputError(f"cannot write {where}: {exc.strerror or exc}")


@dataclass(frozen=True)
class GateOutputs:
    junit: Path | None = None
    markdown: Path | None = None
    github_annotations: bool = False


def write_outputs(decision: GateDecision, outputs: GateOutputs) -> str:
    """Write the requested files; return what goes to standard output. An unwritable file is a HarnessError."""
    files = ((outputs.junit, junit_xml), (outputs.markdown, markdown_summary))
    for target, render in files:
        if target is not None:
            try:
                write_atomically(target, render(decision))
            except OSError as exc:
                raise _unwritable(exc, target) from None
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


@dataclass(frozen=True)
class GateInputs:
    cases: tuple[Case, ...]
    candidates: tuple[Pin, ...]
    ranges: tuple[KnownBadRange, ...]
    accepted: tuple[Acknowledgement, ...]
    spec: MatrixSpec | None
    """versions.toml, read only when something is probed."""


def read_inputs(args: argparse.Namespace, workspace: Workspace) -> GateInputs:
    """Every file the gate reads, validated before anything is built; each problem is a ConfigError."""
    cases = workspace.cases(args.case)
    watched = {name for case in cases for name in case.packages}
    candidates = read_candidate_pins(
        CandidateSources(tuple(args.candidate), tuple(args.file), args.current_environment, tuple(args.extra)),
        watched,
    )
    ranges = load_known_bad(args.known_bad or workspace.reports_dir / KNOWN_BAD_FILE, explicit=bool(args.known_bad))
    accepted = load_accepted(args.accept, workspace.root / "gate.toml")
    if accepted:
        known = {case.id for case in cases} | ({c.id for c in workspace.cases()} if args.case else set())
        check_acknowledged_cases(accepted, known, args.accept or workspace.root / "gate.toml")
    spec = None if args.static_only else workspace.matrix_spec(args.versions)
    return GateInputs(tuple(cases), candidates, ranges, accepted, spec)


def run(args: argparse.Namespace) -> int:
    workspace = Workspace.at(args.root)
    outputs = GateOutputs(args.junit, args.markdown, args.github or os.environ.get("GITHUB_ACTIONS") == "true")
    try:
        inputs = read_inputs(args, workspace)
    except HarnessError as exc:
        # Still write the JUnit/Markdown files, so a CI step that uploads them shows why the gate refused.
        _report_usage(str(exc), outputs)
        raise
    static = static_findings(inputs.candidates, inputs.ranges)
    live: list[LiveResult] = []
    if inputs.spec is not None:
        prober = make_prober(workspace, inputs.spec, package_sources(inputs.spec), **probing_settings(args))
        try:
            with prober:
                live = probe_live(relevant_cases(inputs.cases, inputs.candidates), inputs.candidates, prober)
        except HarnessError as exc:
            _report_usage(str(exc), outputs)
            raise
        finally:
            # A stored record the prober could not read was probed again; say which file it skipped, once.
            report_unreadable(prober.store)
    decision = decide(
        static, live, inputs.accepted, today(), args.strict, different_error_fails=args.different_error_is_failure
    )
    print(write_outputs(decision, outputs))
    return decision.exit_code


def _report_usage(message: str, outputs: GateOutputs) -> None:
    try:
        print(write_outputs(usage_decision(message), outputs), file=sys.stderr)
    except UnwritableOutputError as exc:
        print(f"harness: {exc}", file=sys.stderr)
