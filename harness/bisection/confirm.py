"""Boundary confirmation: after the searches, probe the releases either side of each step again, and widen a step
that the new runs contradict instead of naming it.

One probe's runs can be lucky: a release whose failure shows in a third of its runs passes a single run two
times in three, and a search that takes that pass as GOOD draws the boundary in the wrong place. So each found
step's two sides are probed again, with more runs (``Confirmation.repeat``) and run numbers of their own, and
the evidence is pooled: the release keeps its side only if the pooled runs still put it there under the same
``VerdictPolicy``. A contradicted step becomes ``SearchStatus.UNCONFIRMED``, widened to the nearest releases the
search still knows on each side, with every release between them a candidate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from packaging.version import Version

from harness.bisection.driver import ProbeEvent, SearchHandler
from harness.bisection.search import BisectVerdict, Direction, SearchResult, SearchStatus, VerdictPolicy
from harness.model.outcome import Outcome, Repeats

MIN_CONFIRM_RUNS = 3
"""A case with one run per probe is confirmed with at least this many."""
_POOLED = (Outcome.REPRODUCED, Outcome.PASSED, Outcome.FLAKY)
"""Outcomes whose runs count towards pooled evidence; any other re-probe adds none."""
_SIDES = {
    Direction.REGRESSION: ("last good", "first bad"),
    Direction.FIX: ("last bad", "first fixed"),
}


class Probed(Protocol):
    """What confirmation needs of a release's probe (``releases.ReleaseProbe`` is one)."""

    @property
    def version(self) -> Version: ...

    @property
    def outcome(self) -> Outcome: ...

    @property
    def seconds(self) -> float: ...

    @property
    def reused(self) -> bool: ...

    @property
    def repeats(self) -> Repeats | None: ...


def confirm_runs(repeat: int) -> int:
    """How many runs a confirmation re-probe makes for a case probed with ``repeat`` runs."""
    return max(repeat, MIN_CONFIRM_RUNS)


@dataclass(frozen=True)
class Reprobe:
    """One release either side of a step, probed again."""

    version: Version
    side: str
    """``last good``, ``first bad``, ``last bad`` or ``first fixed``."""
    expected: BisectVerdict
    first: Probed
    """The search's probe."""
    again: Probed
    """The confirmation probe."""
    pooled: Repeats | None
    """Runs of both probes together; None when either could not run the replay (no counts to pool)."""
    verdict: BisectVerdict
    """The policy's verdict on the pooled runs (the first probe's verdict when nothing could be pooled)."""

    @property
    def confirmed(self) -> bool:
        return self.verdict is self.expected


@dataclass(frozen=True)
class Confirmation:
    """What re-probing the boundaries found, and the search results as they stand after it."""

    runs: int
    """Runs per confirmation probe."""
    reprobes: tuple[Reprobe, ...]
    regression: SearchResult[Version]
    fix: SearchResult[Version] | None
    notes: tuple[str, ...]

    @property
    def confirmed(self) -> bool:
        return all(reprobe.confirmed for reprobe in self.reprobes)


CONFIRMABLE = (SearchStatus.FOUND, SearchStatus.AMBIGUOUS)
"""The results whose two sides a confirmation probes again."""


def confirm_boundaries(
    releases: Sequence[Version],
    regression: SearchResult[Version],
    fix: SearchResult[Version] | None,
    outcomes: Mapping[Version, Probed],
    reprobe: Callable[[Version], Probed],
    *,
    runs: int,
    policy: VerdictPolicy,
    handler: SearchHandler[Version] | None = None,
) -> Confirmation:
    """Probe both sides of each found (or narrowed) step again and keep, or widen, each result.

    ``outcomes`` are the searches' probes by release; ``reprobe(version)`` makes the confirmation probe (with
    ``runs`` runs, as a request distinct from the search's). A release shared by both steps is probed once.
    """
    told: SearchHandler[Version] = handler if handler is not None else SearchHandler()
    again: dict[Version, Probed] = {}
    reprobes: list[Reprobe] = []
    notes: list[str] = []
    results: list[SearchResult[Version] | None] = []
    for result in (regression, fix):
        if result is None or result.status not in CONFIRMABLE:
            results.append(result)
            continue
        assert result.before is not None and result.after is not None
        checked = []
        for version, expected, side in (
            (result.before, result.direction.before, _SIDES[result.direction][0]),
            (result.after, result.direction.after, _SIDES[result.direction][1]),
        ):
            if version not in again:
                event = ProbeEvent(result.direction, version, len(again) + 1, 1)
                told.probe_started(event)
                again[version] = reprobe(version)
                told.probe_finished(event, again[version], policy.verdict(again[version].outcome))
            checked.append(
                _judge(
                    version, side=side, expected=expected, first=outcomes[version], again=again[version], policy=policy
                )
            )
        reprobes += checked
        contradicted = [r for r in checked if not r.confirmed]
        if not contradicted:
            results.append(result)
            continue
        pooled = {r.version: r.verdict for r in reprobes}
        widened = _widen(releases, result, outcomes, pooled, policy)
        notes += [_contradiction_note(r, runs) for r in contradicted]
        results.append(widened)
    final_regression, final_fix = results
    assert final_regression is not None
    return Confirmation(runs, tuple(reprobes), final_regression, final_fix, tuple(notes))


def pool(first: Probed, again: Probed) -> Repeats | None:
    """Both probes' runs together, when both ran the replay and counted (an older record counts as one run)."""
    counts = [_counts(probe) for probe in (first, again)]
    if counts[0] is None or counts[1] is None:
        return None
    return counts[0] + counts[1]


def pooled_outcome(repeats: Repeats) -> Outcome:
    if repeats.reproduced == repeats.runs:
        return Outcome.REPRODUCED
    return Outcome.PASSED if repeats.reproduced == 0 else Outcome.FLAKY


def _counts(probe: Probed) -> Repeats | None:
    if probe.outcome not in _POOLED:
        return None
    if probe.repeats is not None:
        return probe.repeats
    return Repeats(1, 1 if probe.outcome is Outcome.REPRODUCED else 0)


def _judge(
    version: Version, *, side: str, expected: BisectVerdict, first: Probed, again: Probed, policy: VerdictPolicy
) -> Reprobe:
    pooled = pool(first, again)
    if pooled is None:
        # A re-probe that could not run (an install that failed this time) adds no evidence either way.
        verdict = policy.verdict(first.outcome, first.repeats)
    else:
        verdict = policy.verdict(pooled_outcome(pooled), pooled)
    return Reprobe(version, side, expected, first, again, pooled, verdict)


def _widen(
    releases: Sequence[Version],
    result: SearchResult[Version],
    outcomes: Mapping[Version, Probed],
    pooled: Mapping[Version, BisectVerdict],
    policy: VerdictPolicy,
) -> SearchResult[Version]:
    """The step between the nearest releases still known on each side, every release between a candidate."""
    assert result.before is not None and result.after is not None
    ordered = list(releases)

    def verdict(version: Version) -> BisectVerdict | None:
        if version in pooled:
            return pooled[version]
        probe = outcomes.get(version)
        return None if probe is None else policy.verdict(probe.outcome, probe.repeats)

    direction = result.direction
    # The last release still on the before side, up to the old step's after side (which may itself have turned
    # out to be on the before side), then the first on the after side beyond it.
    limit = ordered.index(result.after)
    before = next((i for i in range(limit, -1, -1) if verdict(ordered[i]) is direction.before), None)
    first = 0 if before is None else before + 1
    after = next((j for j in range(first, len(ordered)) if verdict(ordered[j]) is direction.after), None)
    candidates = tuple(ordered[first : len(ordered) if after is None else after + 1])
    sides = _SIDES[direction]
    if not candidates:
        where = f"no release after {ordered[-1]} is known to be {sides[1].split()[-1]}"
    elif len(candidates) == 1:
        where = f"the {sides[1]} is {candidates[0]}"
    else:
        where = f"the {sides[1]} is one of {candidates[0]} … {candidates[-1]} ({len(candidates)} releases)"
    message = (
        f"unconfirmed: probed again, the releases either side of {result.before} → {result.after} disagree with "
        f"that step; {where}"
    )
    return SearchResult(
        direction=direction,
        status=SearchStatus.UNCONFIRMED,
        before=None if before is None else ordered[before],
        after=None if after is None else ordered[after],
        message=message,
        candidates=candidates,
        inconsistent=result.inconsistent,
    )


def _contradiction_note(reprobe: Reprobe, runs: int) -> str:
    first = _counts(reprobe.first)
    again = _counts(reprobe.again)
    found = f"reproduced in {again} runs" if again is not None else reprobe.again.outcome.value
    before = f" (the search's probe: {first})" if first is not None else ""
    return (
        f"{reprobe.version}, taken as {reprobe.side}, {found} when probed again with {runs} runs{before}: "
        f"pooled, it counts as {reprobe.verdict.value}, not {reprobe.expected.value}; "
        "raise repeat (case.toml) or --repeat to pin the step down"
    )
