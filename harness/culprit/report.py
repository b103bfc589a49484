"""Render a culprit search as a JSON-ready dict, a one-sentence verdict and a Markdown section."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.culprit.ddmin import CulpritResult, CulpritStatus, Trial
from harness.markdown import inline
from harness.model.changes import EnvironmentDelta, PackageChange

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


def _change_json(change: PackageChange) -> dict[str, Any]:
    return {
        "name": change.name,
        "old": None if change.old is None else str(change.old),
        "new": None if change.new is None else str(change.new),
        "kind": change.kind.value,
    }


def _trial_json(trial: Trial) -> dict[str, Any]:
    return {
        "applied": [_change_json(change) for change in trial.applied],
        "dragged": [change.name for change in trial.dragged],
        "outcome": trial.outcome.value,
        "result": trial.result.value,
    }


def culprit_to_json(
    result: CulpritResult, *, first_bad: str | None = None, delta: EnvironmentDelta | None = None
) -> dict[str, Any]:
    """Everything the search found, as plain JSON types; ``delta`` adds the changes left out of the search."""
    return {
        "schema": SCHEMA_VERSION,
        "status": result.status.value,
        "summary": culprit_sentence(result, first_bad=first_bad),
        "culprits": [_change_json(change) for change in result.culprits],
        "is_interaction": result.is_interaction,
        "minimal": result.minimal,
        "companions": [_change_json(change) for change in result.companions],
        "not_involved": [_change_json(change) for change in result.not_involved],
        "changes": [_change_json(change) for change in result.changes],
        "excluded": [] if delta is None else [_change_json(change) for change in delta.excluded],
        "excluded_at": None if delta is None or not delta.excluded else delta.excluded_at.value,
        "first_bad_release": first_bad,
        "trials": [_trial_json(trial) for trial in result.trials],
        "notes": list(result.notes),
    }


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
