"""The gate as a chain of steps: read candidates -> static check -> live probes -> decide -> write outputs."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName

from harness.case import Case
from harness.errors import ConfigError
from harness.gate.acknowledgements import Acknowledgement, load_acknowledgements
from harness.gate.formats import github_annotations, human_summary, junit_xml, markdown_summary
from harness.gate.policy import GateDecision, KnownBadRange, LiveResult, parse_known_bad_ranges
from harness.pinfiles import merge_candidates, parse_candidate_options, read_candidates, read_environment
from harness.pins import Pin, pin_set
from harness.probe import Prober
from harness.store import write_atomically


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
        groups.append(read_environment(watched=watched))
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
    return parse_known_bad_ranges(data, str(path))


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
