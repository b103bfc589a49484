"""The gate's policy: known-bad ranges, live probe results and acknowledgements folded into one verdict.

Exit codes (``EXIT_CODES``), most severe first when several apply:

    =========  ====  ==========================================================================================
    verdict    exit  when
    =========  ====  ==========================================================================================
    USAGE      2     bad command line or configuration; raised as ConfigError before anything is probed, and
                     listed here so that every exit code of the gate is in one table
    FAILED     1     a case REPRODUCED with the candidate versions, or a candidate pin lies in a known-bad range
                     (releases a bisection confirmed bad), and no valid acknowledgement covers it; with
                     ``strict`` also everything UNDECIDED
    UNDECIDED  3     some case gave no answer: its environment could not be resolved or installed (index down,
                     no wheel), it timed out or crashed, or it failed with a different error (below); or a
                     candidate pin lies in a range a bisection could not test (``uncertain``), which may or may
                     not reproduce
    CLEAR      0     every probe passed and no candidate pin is in a known-bad range (acknowledged items and
                     an empty check included)
    =========  ====  ==========================================================================================

How a live outcome counts:

- REPRODUCED -> FAILED; PASSED -> CLEAR.
- UNRESOLVABLE, INSTALL_FAILED, TIMEOUT, CRASHED, SETUP_FAILED, UNAVAILABLE -> UNDECIDED: nothing was learnt about
  the recorded failure (UNAVAILABLE, an accident such as the index being down, is probed again on the next run).
- DIFFERENT_ERROR -> UNDECIDED. The recorded failure did not occur, but the case did not run through either, so
  the upgrade is neither shown to bring the failure back nor shown to be safe: a release that breaks earlier
  masks the recorded failure. ``different_error_fails=True`` makes it FAILED for teams that want any breakage
  of a recorded case to block an upgrade.

A valid acknowledgement turns a FAILED or UNDECIDED item into a reported, non-blocking one; an expired one no
longer applies and the decision says it expired.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from packaging.specifiers import SpecifierSet

from harness.gate.acknowledgements import Acknowledgement
from harness.model.known_bad import KnownBadRange
from harness.model.outcome import Outcome
from harness.model.pins import Pin


class GateVerdict(enum.Enum):
    CLEAR = "CLEAR"
    FAILED = "FAILED"
    USAGE = "USAGE"
    UNDECIDED = "UNDECIDED"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self]

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


EXIT_CODES: Mapping[GateVerdict, int] = {
    GateVerdict.CLEAR: 0,
    GateVerdict.FAILED: 1,
    GateVerdict.USAGE: 2,
    GateVerdict.UNDECIDED: 3,
}
_SEVERITY = {GateVerdict.CLEAR: 0, GateVerdict.UNDECIDED: 1, GateVerdict.FAILED: 2, GateVerdict.USAGE: 3}

_OUTCOME_VERDICTS: Mapping[Outcome, GateVerdict] = {
    Outcome.REPRODUCED: GateVerdict.FAILED,
    Outcome.PASSED: GateVerdict.CLEAR,
    Outcome.DIFFERENT_ERROR: GateVerdict.UNDECIDED,
    Outcome.UNRESOLVABLE: GateVerdict.UNDECIDED,
    Outcome.INSTALL_FAILED: GateVerdict.UNDECIDED,
    Outcome.TIMEOUT: GateVerdict.UNDECIDED,
    Outcome.CRASHED: GateVerdict.UNDECIDED,
    # Reproduced in some runs: an upgrade that fails only sometimes still fails.
    Outcome.FLAKY: GateVerdict.FAILED,
    Outcome.UNAVAILABLE: GateVerdict.UNDECIDED,
    Outcome.SETUP_FAILED: GateVerdict.UNDECIDED,
}


def outcome_verdict(outcome: Outcome, *, strict: bool = False, different_error_fails: bool = False) -> GateVerdict:
    """What one live outcome means for the gate (see the module docstring)."""
    verdict = _OUTCOME_VERDICTS[outcome]
    if outcome is Outcome.DIFFERENT_ERROR and different_error_fails:
        verdict = GateVerdict.FAILED
    if strict and verdict is GateVerdict.UNDECIDED:
        verdict = GateVerdict.FAILED
    return verdict


# --- known-bad ranges (the static check) --------------------------------------------------------------------------


@dataclass(frozen=True)
class StaticFinding:
    """A candidate pin inside a known-bad range: the case would reproduce without running it. With
    ``uncertain`` set, the pin lies instead in a range next to it that the bisection could not test."""

    pin: Pin
    known_bad: KnownBadRange
    uncertain: SpecifierSet | None = None

    @property
    def case_id(self) -> str:
        return self.known_bad.case_id

    @property
    def range_label(self) -> str:
        """The range the pin lies in, as ``name>=1,<2``."""
        return self.known_bad.label if self.uncertain is None else f"{self.known_bad.package}{self.uncertain}"

    @property
    def reason(self) -> str:
        if self.uncertain is not None:
            return (
                f"{self.pin} is in the range {self.range_label} that case {self.case_id}'s bisection could not "
                f"test (its known-bad range is {self.known_bad.label}): undecided"
            )
        ends = []
        if self.known_bad.first_bad:
            ends.append(f"first bad {self.known_bad.first_bad}")
        if self.known_bad.first_fixed:
            ends.append(f"first fixed {self.known_bad.first_fixed}")
        suffix = f" ({', '.join(ends)})" if ends else ""
        return f"{self.pin} is in the known-bad range {self.known_bad.label} of case {self.case_id}{suffix}"


def static_findings(candidates: Sequence[Pin], ranges: Sequence[KnownBadRange]) -> tuple[StaticFinding, ...]:
    """Every (pin, range) pair where a candidate pin falls in a known-bad range or one of its uncertain ranges,
    ordered by case then pin."""
    found = [StaticFinding(pin, known) for known in ranges for pin in candidates if known.contains(pin)]
    found += [
        StaticFinding(pin, known, uncertain)
        for known in ranges
        for pin in candidates
        if (uncertain := known.uncertain_about(pin)) is not None
    ]
    return tuple(sorted(found, key=lambda f: (f.case_id, f.pin, str(f.known_bad.specifier), str(f.uncertain))))


# --- live results and the decision --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveResult:
    """One case probed in one candidate environment."""

    case_id: str
    case_title: str
    environment: tuple[Pin, ...]
    outcome: Outcome
    detail: str
    error_type: str | None = None
    error_message: str | None = None
    record_key: str | None = None
    repairs: tuple[str, ...] = ()
    """What the probe added to run at all (``added packaging: imported by ...``)."""


Subject = LiveResult | StaticFinding


@dataclass(frozen=True)
class Judgement:
    """What one live result or static finding means for the gate."""

    subject: Subject
    verdict: GateVerdict
    """The item's verdict after ``strict``, before any acknowledgement."""
    reason: str
    """One line."""
    acknowledgement: Acknowledgement | None = None

    @property
    def case_id(self) -> str:
        return self.subject.case_id

    @property
    def environment(self) -> tuple[Pin, ...]:
        if isinstance(self.subject, LiveResult):
            return self.subject.environment
        return (self.subject.pin,)

    @property
    def blocking(self) -> bool:
        return self.verdict is not GateVerdict.CLEAR and self.acknowledgement is None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledgement is not None


@dataclass(frozen=True)
class GateDecision:
    verdict: GateVerdict
    reasons: tuple[str, ...]
    """One-line human reasons: blocking items first, then expired and applied acknowledgements, or a summary."""
    judgements: tuple[Judgement, ...] = ()
    expired: tuple[Acknowledgement, ...] = ()
    """Acknowledgements that would have covered a blocking item had they not expired."""
    strict: bool = False

    @property
    def exit_code(self) -> int:
        return self.verdict.exit_code

    @property
    def acknowledged(self) -> tuple[Judgement, ...]:
        return tuple(j for j in self.judgements if j.acknowledged)

    @property
    def blocking(self) -> tuple[Judgement, ...]:
        return tuple(j for j in self.judgements if j.blocking)


def decide(
    static: Sequence[StaticFinding],
    live: Sequence[LiveResult],
    acknowledgements: Sequence[Acknowledgement],
    today: datetime.date,
    strict: bool = False,
    *,
    different_error_fails: bool = False,
) -> GateDecision:
    """Judge every item, apply acknowledgements valid ``today``, and take the most severe remaining verdict."""
    raw = [_judge_static(finding, strict=strict) for finding in static]
    raw += [_judge_live(result, strict=strict, different_error_fails=different_error_fails) for result in live]
    judgements: list[Judgement] = []
    expired: list[Acknowledgement] = []
    for judgement in raw:
        if judgement.verdict is GateVerdict.CLEAR:
            judgements.append(judgement)
            continue
        covering = [a for a in acknowledgements if a.covers(judgement.case_id, judgement.environment)]
        active = sorted((a for a in covering if a.is_active(today)), key=lambda a: a.until)
        if active:
            judgements.append(Judgement(judgement.subject, judgement.verdict, judgement.reason, active[-1]))
            continue
        judgements.append(judgement)
        expired += [a for a in covering if a not in expired]
    verdict = max((j.verdict for j in judgements if j.blocking), key=lambda v: v.severity, default=GateVerdict.CLEAR)
    ordered = sorted(judgements, key=_display_order)
    return GateDecision(verdict, _reasons(ordered, expired, verdict), tuple(ordered), tuple(expired), strict)


def usage_decision(message: str) -> GateDecision:
    """The decision to report when the gate could not start (a ConfigError): exit code 2."""
    return GateDecision(GateVerdict.USAGE, (one_line(message),))


def _judge_static(finding: StaticFinding, *, strict: bool) -> Judgement:
    if finding.uncertain is None:
        return Judgement(finding, GateVerdict.FAILED, finding.reason)
    if strict:
        return Judgement(finding, GateVerdict.FAILED, finding.reason + " [strict: undecided counts as failed]")
    return Judgement(finding, GateVerdict.UNDECIDED, finding.reason)


def _judge_live(result: LiveResult, *, strict: bool, different_error_fails: bool) -> Judgement:
    verdict = outcome_verdict(result.outcome, strict=strict, different_error_fails=different_error_fails)
    environment = environment_label(result.environment)
    detail = one_line(result.detail)
    if result.outcome is Outcome.REPRODUCED:
        reason = f"{result.case_id} reproduced with {environment}: {detail}"
    elif result.outcome is Outcome.PASSED:
        reason = f"{result.case_id} passed with {environment}"
    elif result.outcome is Outcome.DIFFERENT_ERROR:
        reason = f"{result.case_id} failed with a different error with {environment}: {detail}"
    else:
        reason = f"{result.case_id} gave no answer with {environment} ({result.outcome.value}): {detail}"
    if strict and _OUTCOME_VERDICTS[result.outcome] is GateVerdict.UNDECIDED:
        reason += " [strict: undecided counts as failed]"
    reason += "".join(f" [repaired: {repair}]" for repair in result.repairs)
    return Judgement(result, verdict, reason)


def _display_order(judgement: Judgement) -> tuple[int, int, str, tuple[Pin, ...]]:
    return (-judgement.verdict.severity, judgement.acknowledged, judgement.case_id, judgement.environment)


def _reasons(
    judgements: Sequence[Judgement], expired: Sequence[Acknowledgement], verdict: GateVerdict
) -> tuple[str, ...]:
    reasons = [j.reason for j in judgements if j.blocking]
    reasons += [
        f"acknowledgement of {a.scope} expired on {a.until.isoformat()} ({one_line(a.reason)}); it no longer applies"
        for a in expired
    ]
    reasons += [
        f"{j.reason} -- {one_line(j.acknowledgement.note)}" for j in judgements if j.acknowledgement is not None
    ]
    if verdict is GateVerdict.CLEAR:
        if not judgements:
            reasons.append("nothing to check: no probe results and no candidate pin in a known-bad range")
        else:
            passed = sum(1 for j in judgements if j.verdict is GateVerdict.CLEAR)
            accepted = sum(1 for j in judgements if j.acknowledged)
            reasons.append(f"{passed} probe(s) passed, {accepted} item(s) acknowledged; nothing blocks the upgrade")
    return tuple(reasons)


def environment_label(pins: Sequence[Pin]) -> str:
    return ", ".join(str(pin) for pin in pins) or "(no pins)"


def one_line(text: str, limit: int = 300) -> str:
    """Fold any text (exception messages, installer output) into one bounded line."""
    folded = " ".join(text.split())
    return folded if len(folded) <= limit else folded[: limit - 3] + "..."
