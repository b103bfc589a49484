"""A culprit search as its report file (a typed value and its JSON codec), a one-sentence verdict and Markdown."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.version import InvalidVersion

from harness.culprit.ddmin import CulpritResult, CulpritStatus, Trial, TrialResult
from harness.markdown import inline
from harness.model.changes import EnvironmentDelta, PackageChange, Side
from harness.model.outcome import Outcome

SCHEMA_VERSION = 1


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _listed(changes: Sequence[PackageChange]) -> str:
    return _join([str(change) for change in changes])


def _applied(change: PackageChange) -> str:
    """How one applied change reads in a trial: the version it moved to."""
    return f"{change.name} removed" if change.new is None else f"{change.name} {change.new}"


def _culprit_clause(result: CulpritResult) -> str:
    if not result.is_interaction:
        clause = f"{result.culprits[0]} is the culprit"
    elif result.minimal:
        alone = "neither" if len(result.culprits) == 2 else "none of them"
        clause = f"{_listed(result.culprits)} together are the culprit ({alone} alone breaks the case)"
    else:
        clause = f"{_listed(result.culprits)} together are the culprit (not each shown to be needed)"
    if result.companions:
        pronoun = "it" if len(result.companions) == 1 else "them"
        needing = _join([_applied(change) for change in result.culprits])
        clause += f", with {_listed(result.companions)} dragged along ({needing} cannot be installed without {pronoun})"
    return clause


def culprit_sentence(result: CulpritResult, *, first_bad: str | None = None) -> str:
    """The verdict in one plain-text sentence; ``first_bad`` is a bisection's first bad release, if one ran."""
    if result.status is CulpritStatus.NO_CHANGES:
        return "The two environments pin the same versions; there is no change to blame."
    if result.status is CulpritStatus.NEW_PASSES:
        return "The new environment passes too; no change breaks the case."
    if result.status is CulpritStatus.OLD_FAILS:
        return "The old environment already fails; the changes between the environments are not what broke the case."
    if result.status is CulpritStatus.UNTESTABLE:
        reason = next((note for note in result.notes if note.startswith("cannot isolate")), "cannot isolate")
        return f"{reason[0].upper()}{reason[1:]}."
    parts = [_culprit_clause(result)]
    if result.not_involved:
        verb = "is" if len(result.not_involved) == 1 else "are"
        parts.append(f"{_listed(result.not_involved)} {verb} not involved")
    if first_bad:
        parts.append(f"first bad release {first_bad}")
    return "; ".join(parts) + "."


@dataclass(frozen=True)
class StoredTrial:
    applied: tuple[PackageChange, ...]
    dragged: tuple[str, ...]
    """Names of the companions dragged along."""
    outcome: Outcome
    result: TrialResult


@dataclass(frozen=True)
class StoredCulprit:
    """The culprit report file (``reports/culprit/<case>.json``) as a value; ``culprit_to_json`` writes it."""

    status: CulpritStatus
    summary: str
    culprits: tuple[PackageChange, ...]
    is_interaction: bool
    minimal: bool
    companions: tuple[PackageChange, ...]
    not_involved: tuple[PackageChange, ...]
    changes: tuple[PackageChange, ...]
    excluded: tuple[PackageChange, ...]
    excluded_at: Side | None
    first_bad_release: str | None
    trials: tuple[StoredTrial, ...]
    notes: tuple[str, ...]
    case_id: str | None = None
    """Set by the command that writes the file; absent from ``culprit_to_json``'s own output."""


def stored_culprit(
    result: CulpritResult, *, first_bad: str | None = None, delta: EnvironmentDelta | None = None
) -> StoredCulprit:
    """Everything the search found; ``delta`` adds the changes left out of the search."""
    return StoredCulprit(
        status=result.status,
        summary=culprit_sentence(result, first_bad=first_bad),
        culprits=result.culprits,
        is_interaction=result.is_interaction,
        minimal=result.minimal,
        companions=result.companions,
        not_involved=result.not_involved,
        changes=result.changes,
        excluded=() if delta is None else delta.excluded,
        excluded_at=None if delta is None or not delta.excluded else delta.excluded_at,
        first_bad_release=first_bad,
        trials=tuple(
            StoredTrial(trial.applied, tuple(c.name for c in trial.dragged), trial.outcome, trial.result)
            for trial in result.trials
        ),
        notes=result.notes,
    )


def culprit_to_json(
    result: CulpritResult, *, first_bad: str | None = None, delta: EnvironmentDelta | None = None
) -> dict[str, Any]:
    """Everything the search found, as plain JSON types; ``delta`` adds the changes left out of the search."""
    return stored_culprit_to_json(stored_culprit(result, first_bad=first_bad, delta=delta))


def stored_culprit_to_json(stored: StoredCulprit) -> dict[str, Any]:
    data: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "status": stored.status.value,
        "summary": stored.summary,
        "culprits": [_change_json(change) for change in stored.culprits],
        "is_interaction": stored.is_interaction,
        "minimal": stored.minimal,
        "companions": [_change_json(change) for change in stored.companions],
        "not_involved": [_change_json(change) for change in stored.not_involved],
        "changes": [_change_json(change) for change in stored.changes],
        "excluded": [_change_json(change) for change in stored.excluded],
        "excluded_at": None if stored.excluded_at is None else stored.excluded_at.value,
        "first_bad_release": stored.first_bad_release,
        "trials": [
            {
                "applied": [_change_json(change) for change in trial.applied],
                "dragged": list(trial.dragged),
                "outcome": trial.outcome.value,
                "result": trial.result.value,
            }
            for trial in stored.trials
        ],
        "notes": list(stored.notes),
    }
    if stored.case_id is not None:
        data["case_id"] = stored.case_id
    return data


def culprit_from_json(data: object) -> StoredCulprit:
    """Inverse of ``stored_culprit_to_json``; raises ValueError on a file that is not a culprit report."""
    if not isinstance(data, Mapping):
        raise ValueError("not a JSON object")
    if data.get("schema") != SCHEMA_VERSION:
        raise ValueError(f"culprit report schema {data.get('schema')!r} is not supported (expected {SCHEMA_VERSION})")
    try:
        excluded_at = data.get("excluded_at")
        return StoredCulprit(
            status=CulpritStatus(data["status"]),
            summary=str(data["summary"]),
            culprits=_changes(data["culprits"]),
            is_interaction=bool(data["is_interaction"]),
            minimal=bool(data["minimal"]),
            companions=_changes(data["companions"]),
            not_involved=_changes(data["not_involved"]),
            changes=_changes(data["changes"]),
            excluded=_changes(data.get("excluded", [])),
            excluded_at=None if excluded_at is None else Side(excluded_at),
            first_bad_release=data.get("first_bad_release"),
            trials=tuple(
                StoredTrial(
                    _changes(trial["applied"]),
                    tuple(map(str, trial["dragged"])),
                    Outcome(trial["outcome"]),
                    TrialResult(trial["result"]),
                )
                for trial in data["trials"]
            ),
            notes=tuple(map(str, data.get("notes", []))),
            case_id=data.get("case_id"),
        )
    except (KeyError, TypeError, InvalidVersion) as exc:
        raise ValueError(f"malformed culprit report: {exc!r}") from None


def _change_json(change: PackageChange) -> dict[str, Any]:
    return {
        "name": change.name,
        "old": None if change.old is None else str(change.old),
        "new": None if change.new is None else str(change.new),
        "kind": change.kind.value,
    }


def _changes(items: Iterable[Mapping[str, Any]]) -> tuple[PackageChange, ...]:
    # "kind" follows from old and new; it is in the file for readers, not read back.
    return tuple(PackageChange.of(item["name"], item.get("old"), item.get("new")) for item in items)


def _role(result: CulpritResult, change: PackageChange) -> str:
    if change in result.culprits:
        return "**culprit**"
    if change in result.companions:
        return "dragged along"
    if change in result.not_involved:
        return "not involved"
    return "-"


def _version_cell(version: object | None) -> str:
    return "(absent)" if version is None else inline(str(version))


def _trial_cell(result: CulpritResult, trial: Trial) -> str:
    if not trial.applied:
        return "none (old environment)"
    text = ", ".join(inline(_applied(change)) for change in trial.applied)
    return f"{text} (new environment)" if len(trial.applied) == len(result.changes) else text


def culprit_markdown(
    result: CulpritResult,
    *,
    first_bad: str | None = None,
    delta: EnvironmentDelta | None = None,
    heading: str = "## Which change broke it",
) -> str:
    """A Markdown section: the verdict, the changes and their roles, every trial in order, and the notes."""
    lines = [heading, "", inline(culprit_sentence(result, first_bad=first_bad)), ""]
    if result.changes:
        lines += ["| package | old | new | change | role |", "| --- | --- | --- | --- | --- |"]
        lines += [
            f"| {inline(change.name)} | {_version_cell(change.old)} | {_version_cell(change.new)} "
            f"| {change.kind.value} | {_role(result, change)} |"
            for change in result.changes
        ]
        lines.append("")
    if delta is not None and delta.excluded:
        lines += [
            f"Left out of the search and held at their {delta.excluded_at.value} versions: "
            f"{inline(_listed(delta.excluded))}.",
            "",
        ]
    unresolvable = result.unresolvable
    if unresolvable:
        combos = "; ".join(" + ".join(inline(_applied(c)) for c in trial.applied) for trial in unresolvable)
        lines += [f"The resolver rejected {len(unresolvable)} combination(s), not counted as failures: {combos}.", ""]
    dragged = result.with_companions
    if dragged:
        retries = "; ".join(
            f"{' + '.join(inline(_applied(c)) for c in trial.requested)} with "
            f"{' + '.join(inline(_applied(c)) for c in trial.dragged)}"
            for trial in dragged
        )
        lines += [f"Retried with the changes they need dragged along: {retries}.", ""]
    if result.trials:
        lines += [
            f"### Trials ({len(result.trials)})",
            "",
            "| # | changes applied to the old environment | dragged along | outcome | result |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {number} | {_trial_cell(result, trial)} "
            f"| {', '.join(inline(change.name) for change in trial.dragged)} "
            f"| {trial.outcome.value} | {trial.result.value.lower()} |"
            for number, trial in enumerate(result.trials, start=1)
        ]
        lines.append("")
    if result.notes:
        lines += ["### Notes", ""]
        lines += [f"- {inline(note)}" for note in result.notes]
        lines.append("")
    return "\n".join(lines)
