"""Delta debugging over the package changes between a good and a bad environment: which change breaks the case.

The search is Zeller's interaction-aware delta debugging (``dd+`` from "Yesterday, my program worked. Today, it
does not. Why?", 1999) with ddmin's granularity increase for unresolved tests, followed by a tested 1-minimality
pass. A *trial* applies a subset of the changes to the old environment; its outcome maps to FAIL (the recorded
failure), PASS, or UNRESOLVED (anything else: the resolver rejected it, a different error, a timeout ...).

Nothing here does I/O. ``next_probe`` is a pure step function: given the outcomes known so far it either names
the next subset to probe or returns the result. It replays the search from the start on every call, so the known
outcomes (e.g. probe records on disk) are the whole state and no subset is ever probed twice. ``isolate`` is the
one loop that drives it, with an injected ``test`` callable and a hook that learns companions from the resolver.

Cost when the failure is caused by a set S of k changes among n (fails iff S is applied) and every trial
resolves: 2 trials to check both ends, at most 2 per level of a recursion of depth ceil(log2 n) per culprit, one to
confirm the union fails and at most k for the 1-minimality pass: at most ``2*k*ceil(log2 n) + k + 3`` trials.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from harness.model.changes import PackageChange
from harness.model.outcome import Outcome

Subset = frozenset[PackageChange]
Companions = Mapping[PackageChange, Iterable[PackageChange]]
"""For a change, the changes it cannot be installed without (e.g. x-transformers 1.43.1 needs einops>=0.8.0)."""


class TrialResult(enum.Enum):
    FAIL = "FAIL"
    PASS = "PASS"
    UNRESOLVED = "UNRESOLVED"


def trial_result(outcome: Outcome) -> TrialResult:
    """REPRODUCED fails and PASSED passes; everything else (UNRESOLVABLE included) says nothing either way."""
    if outcome is Outcome.REPRODUCED:
        return TrialResult.FAIL
    if outcome is Outcome.PASSED:
        return TrialResult.PASS
    return TrialResult.UNRESOLVED


def _sorted(changes: Iterable[PackageChange]) -> tuple[PackageChange, ...]:
    return tuple(sorted(changes, key=lambda change: change.name))


@dataclass(frozen=True)
class Trial:
    """One probed subset: the changes applied to the old environment and what the probe found."""

    applied: tuple[PackageChange, ...]
    outcome: Outcome
    dragged: tuple[PackageChange, ...] = ()
    """Companions added because ``applied`` minus these was unresolvable on its own; empty for a direct trial."""

    @property
    def result(self) -> TrialResult:
        return trial_result(self.outcome)

    @property
    def requested(self) -> tuple[PackageChange, ...]:
        """The subset the search asked about (``applied`` without the dragged companions)."""
        return tuple(change for change in self.applied if change not in self.dragged)


@dataclass(frozen=True)
class TrialRequest:
    """The next environment to test: the old one with ``applied`` moved to their new versions."""

    applied: Subset
    dragged: Subset = frozenset()
    """Companions in ``applied`` added because the requested subset was unresolvable without them."""


class CulpritStatus(enum.Enum):
    ISOLATED = "ISOLATED"
    """A failing set of changes was found (see ``minimal`` for whether 1-minimality was confirmed)."""
    NO_CHANGES = "NO_CHANGES"
    """The two environments pin the same versions."""
    NEW_PASSES = "NEW_PASSES"
    """The new environment does not fail: there is no culprit."""
    OLD_FAILS = "OLD_FAILS"
    """The old environment fails already: the changes are not what broke the case."""
    UNTESTABLE = "UNTESTABLE"
    """One end gave neither a pass nor the failure (unresolvable, install failure, another error ...)."""


@dataclass(frozen=True)
class CulpritResult:
    status: CulpritStatus
    changes: tuple[PackageChange, ...]
    """Every change considered, sorted by name."""
    culprits: tuple[PackageChange, ...] = ()
    """A failing set of changes from which no single change can be dropped (when ``minimal``)."""
    companions: tuple[PackageChange, ...] = ()
    """Changes dragged along because the culprits cannot be installed without them; not shown to matter."""
    not_involved: tuple[PackageChange, ...] = ()
    trials: tuple[Trial, ...] = ()
    """Every probed subset, in the order the search consulted it."""
    minimal: bool = False
    """Each culprit was confirmed necessary: removing it gave a passing trial."""
    notes: tuple[str, ...] = ()

    @property
    def is_interaction(self) -> bool:
        """Several changes are needed together: none of them alone is the cause."""
        return len(self.culprits) > 1

    @property
    def unresolvable(self) -> tuple[Trial, ...]:
        return tuple(trial for trial in self.trials if trial.outcome is Outcome.UNRESOLVABLE)

    @property
    def with_companions(self) -> tuple[Trial, ...]:
        return tuple(trial for trial in self.trials if trial.dragged)


class _NeedProbe(Exception):
    def __init__(self, probe: TrialRequest) -> None:
        super().__init__(probe)
        self.probe = probe


def _describe(changes: Iterable[PackageChange]) -> str:
    listed = [str(change) for change in _sorted(changes)]
    return ", ".join(listed) if listed else "no change"


class _Search:
    """One replay of the search over the known outcomes; raises ``_NeedProbe`` at the first unknown subset."""

    def __init__(
        self,
        changes: tuple[PackageChange, ...],
        known: Mapping[Subset, Outcome],
        companions: Mapping[PackageChange, Subset],
    ) -> None:
        self.changes = changes
        self.order = {change: index for index, change in enumerate(changes)}
        self.known = known
        self.companions = companions
        self.trials: dict[Subset, Trial] = {}
        self.effective: dict[Subset, Subset] = {}
        self.notes: list[str] = []

    # --- trials -------------------------------------------------------------------------------------------------

    def _outcome(self, applied: Subset, dragged: Subset) -> Outcome:
        if applied not in self.known:
            raise _NeedProbe(TrialRequest(applied, dragged))
        outcome = self.known[applied]
        if applied not in self.trials:
            self.trials[applied] = Trial(_sorted(applied), outcome, _sorted(dragged))
        return outcome

    def closure(self, subset: Subset) -> Subset:
        closed = set(subset)
        frontier = list(subset)
        while frontier:
            for needed in self.companions.get(frontier.pop(), frozenset()):
                if needed not in closed:
                    closed.add(needed)
                    frontier.append(needed)
        return frozenset(closed)

    def test(self, subset: Subset) -> TrialResult:
        """The verdict on ``subset``; an unresolvable subset is retried once with its companions dragged along."""
        outcome = self._outcome(subset, frozenset())
        self.effective[subset] = subset
        if outcome is Outcome.UNRESOLVABLE:
            closed = self.closure(subset)
            if closed != subset:
                outcome = self._outcome(closed, closed - subset)
                self.effective[subset] = closed
        return trial_result(outcome)

    def ordered(self, subset: Iterable[PackageChange]) -> tuple[PackageChange, ...]:
        return tuple(sorted(subset, key=self.order.__getitem__))

    # --- dd+ ----------------------------------------------------------------------------------------------------

    def dd(self, candidates: tuple[PackageChange, ...], context: Subset) -> tuple[PackageChange, ...]:
        """Changes among ``candidates`` needed for the failure, given ``context`` applied as well.

        Assumes ``context`` does not fail and ``context + candidates`` does; the final checks catch where a
        non-monotone case breaks the assumption.
        """
        if len(candidates) == 1:
            return candidates
        parts_count = 2
        while True:
            parts = _split(candidates, parts_count)
            verdicts = []
            for part in parts:
                verdict = self.test(context | frozenset(part))
                if verdict is TrialResult.FAIL:
                    return self.dd(part, context)
                verdicts.append(verdict)
            if parts_count == 2 and all(verdict is TrialResult.PASS for verdict in verdicts):
                # Interference: each half is needed given the other; look for the needed changes in each.
                first, second = parts
                return self.dd(first, context | frozenset(second)) + self.dd(second, context | frozenset(first))
            passing_rest: tuple[PackageChange, ...] | None = None
            for index, part in enumerate(parts):
                rest = tuple(change for change in candidates if change not in part)
                # With two parts the rest of one part is the other, already tested above.
                verdict = self.test(context | frozenset(rest)) if parts_count > 2 else verdicts[1 - index]
                if verdict is TrialResult.FAIL:
                    return self.dd(rest, context)
                if verdict is TrialResult.PASS and passing_rest is None:
                    passing_rest = part
            if passing_rest is not None:
                return self._split_off(candidates, context, passing_rest)
            if parts_count >= len(candidates):
                self.notes.append(
                    f"could not tell apart {_describe(candidates)}: the trials that would separate them did not "
                    "resolve, so all of them are kept"
                )
                return candidates
            parts_count = min(len(candidates), parts_count * 2)

    def _split_off(
        self, candidates: tuple[PackageChange, ...], context: Subset, part: tuple[PackageChange, ...]
    ) -> tuple[PackageChange, ...]:
        """``part`` holds a needed change (the rest passes without it): isolate it there, then in the rest."""
        rest = tuple(change for change in candidates if change not in part)
        found = self.dd(part, context | frozenset(rest))
        if self.test(context | frozenset(found)) is TrialResult.FAIL:
            return found
        return found + self.dd(rest, context | frozenset(found))

    # --- the whole search ---------------------------------------------------------------------------------------

    def run(self) -> CulpritResult:
        everything = frozenset(self.changes)
        if not self.changes:
            return self._result(CulpritStatus.NO_CHANGES, (), minimal=False)
        old = self.test(frozenset())
        if old is not TrialResult.PASS:
            return self._end(old, "old")
        new = self.test(everything)
        if new is not TrialResult.FAIL:
            return self._end(new, "new")
        found = frozenset(self.dd(self.changes, frozenset()))
        if self.test(found) is not TrialResult.FAIL:
            self.notes.append(
                f"the changes isolated step by step ({_describe(found)}) do not fail on their own; "
                "reduced the smallest failing trial instead"
            )
            found = self._smallest_failing()
        culprits, minimal = self._reduce(found)
        effective = self.effective[culprits]
        if effective != culprits:
            # The culprits only installed with companions: give the companions a chance to be the cause instead,
            # trying to drop the requested changes before the dragged ones.
            culprits, minimal = self._reduce(effective, first=culprits)
        return self._result(CulpritStatus.ISOLATED, culprits, minimal=minimal)

    def _smallest_failing(self) -> Subset:
        failing = [
            subset for subset, effective in self.effective.items() if self.trials[effective].result is TrialResult.FAIL
        ]
        return min(failing, key=len)  # the full set failed, so there is at least one

    def _reduce(self, found: Subset, first: Subset = frozenset()) -> tuple[Subset, bool]:
        """Drop changes whose removal still fails until none can be dropped (ddmin's last stage).

        ``found`` must fail. Returns the reduced set and whether every kept change was shown to be needed.
        """
        current = found
        unsure: list[PackageChange] = []
        changed = True
        while changed:
            changed = False
            unsure = []
            for change in self.ordered(current & first) + self.ordered(current - first):
                verdict = self.test(current - {change})
                if verdict is TrialResult.FAIL:
                    current = current - {change}
                    changed = True
                    break
                if verdict is TrialResult.UNRESOLVED:
                    unsure.append(change)
        for change in unsure:
            outcome = self.trials[self.effective[current - {change}]].outcome
            self.notes.append(f"could not check whether {change} is needed: the trial without it gave {outcome.value}")
        return current, not unsure

    def _end(self, verdict: TrialResult, side: str) -> CulpritResult:
        subset = frozenset() if side == "old" else frozenset(self.changes)
        outcome = self.trials[self.effective[subset]].outcome
        if side == "old" and verdict is TrialResult.FAIL:
            self.notes.append("the old environment already fails; the changes are not what broke the case")
            return self._result(CulpritStatus.OLD_FAILS, (), minimal=False)
        if side == "new" and verdict is TrialResult.PASS:
            self.notes.append("the new environment passes too: no change breaks the case")
            return self._result(CulpritStatus.NEW_PASSES, (), minimal=False)
        expected = "pass" if side == "old" else "fail with the recorded error"
        self.notes.append(f"cannot isolate: the {side} environment gave {outcome.value} where it should {expected}")
        return self._result(CulpritStatus.UNTESTABLE, (), minimal=False)

    def _companion_note(self, chosen: Subset, companions: Subset) -> str:
        pronoun, own = ("it", "its") if len(companions) == 1 else ("them", "their")
        note = f"{_describe(companions)} dragged along: {_describe(chosen)} cannot be installed without {pronoun}"
        alone = self.effective.get(companions)
        if alone is None:
            return f"{note}; not tested on {own} own"
        return f"{note}; on {own} own: {self.trials[alone].outcome.value}"

    def _result(self, status: CulpritStatus, culprits: Iterable[PackageChange], *, minimal: bool) -> CulpritResult:
        chosen = frozenset(culprits)
        companions = self.effective.get(chosen, chosen) - chosen
        if companions:
            self.notes.append(self._companion_note(chosen, companions))
        involved = chosen | companions
        return CulpritResult(
            status=status,
            changes=self.changes,
            culprits=self.ordered(chosen),
            companions=self.ordered(companions),
            not_involved=self.ordered(set(self.changes) - involved) if status is CulpritStatus.ISOLATED else (),
            trials=tuple(self.trials.values()),
            minimal=minimal,
            notes=tuple(dict.fromkeys(self.notes)),
        )


def _split(items: tuple[PackageChange, ...], parts: int) -> list[tuple[PackageChange, ...]]:
    """``parts`` contiguous, nearly equal slices (the first ones the smaller, as ddmin does)."""
    bounds = [len(items) * index // parts for index in range(parts + 1)]
    return [items[start:stop] for start, stop in itertools.pairwise(bounds) if start < stop]


def _prepare(
    changes: Iterable[PackageChange], companions: Companions | None
) -> tuple[tuple[PackageChange, ...], dict[PackageChange, Subset]]:
    ordered = _sorted(set(changes))
    names = [change.name for change in ordered]
    if len(set(names)) != len(names):
        raise ValueError("two changes of the same package")
    allowed = set(ordered)
    needs: dict[PackageChange, Subset] = {}
    for change, needed in (companions or {}).items():
        needed_set = frozenset(needed) - {change}
        strangers = ({change} | needed_set) - allowed
        if strangers:
            raise ValueError(f"companions name changes outside the search: {_describe(strangers)}")
        needs[change] = needed_set
    return ordered, needs


def next_probe(
    changes: Iterable[PackageChange],
    known: Mapping[Subset, Outcome],
    *,
    companions: Companions | None = None,
) -> TrialRequest | CulpritResult:
    """The next subset to probe, or the result once the known outcomes settle the question.

    ``known`` maps each subset already probed (the changes applied to the old environment) to its outcome; it
    may hold more than the search asks for. ``companions`` may grow between calls as the resolver teaches the
    caller more; the known outcomes stay valid.
    """
    ordered, needs = _prepare(changes, companions)
    search = _Search(ordered, known, needs)
    try:
        return search.run()
    except _NeedProbe as need:
        return need.probe


def isolate(
    changes: Iterable[PackageChange],
    test: Callable[[Subset], Outcome],
    *,
    companions: Companions | None = None,
    known: Mapping[Subset, Outcome] | None = None,
    needs: Callable[[Subset], Iterable[PackageChange]] | None = None,
    ahead: Callable[[list[Subset]], None] | None = None,
    width: int = 1,
) -> CulpritResult:
    """Run the search to the end, calling ``test`` once for every subset whose outcome is not yet known.

    ``needs(subset)`` is asked after ``subset`` came back UNRESOLVABLE: the changes the resolver said it
    wanted along (read from its message); each change of ``subset`` then drags them along from there on.
    ``ahead``, when given, hears before each trial the ``width`` subsets the search may ask for next
    (``lookahead``), so a caller with several cores can start them early; the search is the same either way.
    """
    outcomes: dict[Subset, Outcome] = dict(known or {})
    learnt: dict[PackageChange, set[PackageChange]] = {
        change: set(needed) for change, needed in (companions or {}).items()
    }
    while True:
        step = next_probe(changes, outcomes, companions=learnt)
        if isinstance(step, CulpritResult):
            return step
        if ahead is not None and width > 1:
            ahead(lookahead(changes, outcomes, companions=learnt, width=width))
        outcome = test(step.applied)
        outcomes[step.applied] = outcome
        if outcome is Outcome.UNRESOLVABLE and needs is not None:
            named = set(needs(step.applied)) - step.applied
            for change in step.applied:
                learnt.setdefault(change, set()).update(named)


def lookahead(
    changes: Iterable[PackageChange],
    known: Mapping[Subset, Outcome],
    *,
    companions: Companions | None = None,
    width: int,
) -> list[Subset]:
    """The subset the search asks for now, then those it would ask for after each outcome, breadth first.

    Only reproduced and passed are supposed (the common answers); a subset asked for under either is worth
    starting early, since the search will want it if the guess comes true.
    """
    ordered = _sorted(set(changes))
    subsets: list[Subset] = []
    frontier: list[Mapping[Subset, Outcome]] = [known]
    while frontier and len(subsets) < width:
        following: list[Mapping[Subset, Outcome]] = []
        for state in frontier:
            step = next_probe(ordered, state, companions=companions)
            if isinstance(step, CulpritResult) or step.applied in subsets:
                continue
            subsets.append(step.applied)
            if len(subsets) == width:
                break
            following += [{**state, step.applied: outcome} for outcome in (Outcome.REPRODUCED, Outcome.PASSED)]
        frontier = following
    return subsets
