"""The one loop that drives a TransitionSearch: propose, probe through a callable, fold the verdict in, tell a handler.

Releases, commits and the tests all run their searches through ``run_search``; what a probe does (build an
environment, answer from a stored record, read a table) is the caller's callable, and what the user sees is
the handler's business, in the manner of mozregression's ``BisectorHandler``. Nothing here does I/O.

With ``jobs`` > 1 the driver probes ahead: while the item the search asks for runs, it also runs the items
the search would ask for next under each verdict it could get (a breadth-first walk of the search's
immutable states, folded with hypothetical GOOD and BAD verdicts), so a bracket shrinks by more than half per
round. The search itself is untouched: it consumes exactly the probes, in exactly the order, that it would
with one job, so its answer and its probe bound are the same. The extra cost is bounded: at most ``jobs``
probes run at once, and at most ``GUESSES_PER_JOB * jobs - 1`` guesses run probes ahead of each probe the
search consumes. A guess that would first wait for something slow (a fork worker importing torch) declines at
once, getting that ready in the background, and is probed only if the search asks for it; it costs no place
among those guesses. Each answer a guess makes is folded into the walk as it arrives, in place of both
hypotheses (``Lookahead.start_planned``), so the guesses follow the path the search will really take; and a
search that will run next (a bisection's fix search, while its regression search runs) is walked beside this
one, so that what its releases need starts early.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from harness.bisection.search import BisectVerdict, Direction, SearchResult, TransitionSearch, VerdictPolicy
from harness.model.outcome import Outcome, Repeats
from harness.probing.lookahead import Ahead, Lookahead

T = TypeVar("T", bound=Hashable)


class ProbeAnswer(Protocol):
    """What a probe found, as far as the driver and a progress display care."""

    @property
    def outcome(self) -> Outcome: ...

    @property
    def seconds(self) -> float: ...

    @property
    def reused(self) -> bool:
        """The answer came from a stored record rather than a new run."""
        ...

    @property
    def repeats(self) -> Repeats | None:
        """Runs made and how many reproduced, where the probe counted them."""
        ...


A = TypeVar("A", bound=ProbeAnswer)


@dataclass(frozen=True)
class Answer:
    """A plain probe answer, for probes that have nothing more to tell."""

    outcome: Outcome
    seconds: float = 0.0
    reused: bool = False
    repeats: Repeats | None = None


@dataclass(frozen=True)
class ProbeEvent(Generic[T]):
    """One probe the search asked for, as the handler hears about it."""

    direction: Direction
    item: T
    step: int
    """1-based number of this probe within its search."""
    max_remaining: int
    """The most probes this search may still need, this one included, if no further item is unusable."""


@dataclass(frozen=True)
class Probed(Generic[T, A]):
    """One probe made: what was asked, what the probe answered, and what that counted as."""

    event: ProbeEvent[T]
    answer: A
    verdict: BisectVerdict


@dataclass(frozen=True)
class SearchRun(Generic[T, A]):
    result: SearchResult[T]
    probes: tuple[Probed[T, A], ...]
    """Every probe of this run, in the order made (items whose verdict was known up front are not here)."""


class SearchHandler(Generic[T]):
    """Hears what a driven search does. Every method does nothing here: a handler overrides what it needs."""

    def probe_started(self, event: ProbeEvent[T]) -> None:
        """Just before ``event.item`` is probed."""

    def probe_finished(self, event: ProbeEvent[T], answer: ProbeAnswer, verdict: BisectVerdict) -> None:
        """Just after, with the probe's answer and the verdict the policy gave it."""

    def finished(self, result: SearchResult[T]) -> None:
        """Once nothing is left to probe."""


_DEFAULT_POLICY = VerdictPolicy()
GUESSES_PER_JOB = 3
"""How far ahead, in items per job: a fork worker for a release that resolves another numpy takes seconds to
start, so it pays to meet that release two verdicts early; one job per item (breadth first) reached only one,
and more than three per job (on two cores) only added resolutions nobody asked for."""


def run_search(
    search: TransitionSearch[T],
    probe: Callable[[T], A],
    *,
    policy: VerdictPolicy = _DEFAULT_POLICY,
    handler: SearchHandler[T] | None = None,
    jobs: int = 1,
    ahead: Ahead[T, A] | None = None,
    following: Callable[[TransitionSearch[T]], TransitionSearch[T]] | None = None,
) -> SearchRun[T, A]:
    """Probe what ``search`` proposes until it is finished; ``probe`` is called at most once per item.

    ``probe`` must be safe to call from several threads when ``jobs`` > 1; the handler is only ever called
    from this thread, in the order the search consumes the probes. ``ahead``: the lookahead to probe through
    (whose probe is ``probe``), shared with a search run after this one so that what was guessed for it is
    not probed twice; ``following``: that search as it would start were this one to end in its given state,
    whose next items are guessed after this search's own.
    """
    told: SearchHandler[T] = handler if handler is not None else SearchHandler()
    probes: list[Probed[T, A]] = []
    width = GUESSES_PER_JOB * jobs if jobs > 1 else 1
    with contextlib.ExitStack() as stack:
        if ahead is None:
            ahead = stack.enter_context(Lookahead(probe, jobs))
        while (item := search.next_probe()) is not None:
            event = ProbeEvent(search.direction, item, len(probes) + 1, search.max_remaining())
            told.probe_started(event)
            after = following(search) if following is not None else None
            ahead.start_planned(_Planner(search, after, width, policy), budget=width - 1)
            answer = ahead.answer(item)
            verdict = policy.verdict(answer.outcome, answer.repeats)
            probes.append(Probed(event, answer, verdict))
            told.probe_finished(event, answer, verdict)
            search = search.fold(item, verdict)
    result = search.result()
    told.finished(result)
    return SearchRun(result, tuple(probes))


@dataclass(frozen=True)
class _Planner(Generic[T]):
    """A round's plan (``Lookahead.start_planned``): the lookahead of ``search`` and ``following``, given the
    answers the guesses have made so far."""

    search: TransitionSearch[T]
    following: TransitionSearch[T] | None
    width: int
    policy: VerdictPolicy

    def __call__(self, at_hand: Callable[[T], ProbeAnswer | None], waiting: Callable[[T], bool]) -> list[T]:
        def known(item: T) -> BisectVerdict | None:
            answer = at_hand(item)
            return None if answer is None else self.policy.verdict(answer.outcome, answer.repeats)

        return lookahead(self.search, self.width, following=self.following, known=known, waiting=waiting)


def _nothing_known(item: object) -> BisectVerdict | None:
    return None


def _nothing_waits(item: object) -> bool:
    return False


_HYPOTHESES = (BisectVerdict.BAD, BisectVerdict.GOOD)


def lookahead(
    search: TransitionSearch[T],
    width: int,
    *,
    following: TransitionSearch[T] | None = None,
    known: Callable[[T], BisectVerdict | None] = _nothing_known,
    waiting: Callable[[T], bool] = _nothing_waits,
) -> list[T]:
    """The item ``search`` asks for now, then those it would ask for after each verdict, breadth first: at most
    ``width`` items in all.

    ``following``: a search to run after this one, as it would start from this one's state; its items are walked
    level by level beside this one's. ``known``: verdicts already at hand (a guess that was answered) are
    followed that way only, at no cost in width or depth, so the walk reaches further along the path the search
    will take. ``waiting``: items already readied whose probe waits for something slow to start; they are
    listed at no cost in width, so that the walk reaches past them to what else will need starting. An item
    met again is not listed again, but what follows it is walked; the walk visits at most
    ``_STATES_PER_ITEM * width`` states.
    """
    root = search.next_probe()
    if root is None:
        return []
    items = [root]
    counted = 1
    frontier = _branches(search, root, known)
    if following is not None:
        frontier.append(following)
    visits = 0
    while frontier and counted < width and visits < _STATES_PER_ITEM * width:
        deeper: list[TransitionSearch[T]] = []
        for unsettled in frontier:
            visits += 1
            state, item = _settled(unsettled, known)
            if item is None:
                continue
            if item not in items:
                items.append(item)
                counted += not waiting(item)
                if counted == width:
                    break
            deeper += _branches(state, item, known)
        frontier = deeper
    return items


_STATES_PER_ITEM = 4


def _branches(
    state: TransitionSearch[T], item: T, known: Callable[[T], BisectVerdict | None]
) -> list[TransitionSearch[T]]:
    """The states after ``item``: with its known verdict, else with each hypothesis."""
    verdict = known(item)
    return [state.fold(item, verdict)] if verdict is not None else [state.fold(item, v) for v in _HYPOTHESES]


def _settled(
    state: TransitionSearch[T], known: Callable[[T], BisectVerdict | None]
) -> tuple[TransitionSearch[T], T | None]:
    """``state`` with the known verdicts of the items it asks for next folded in, and the first unknown one."""
    while (item := state.next_probe()) is not None and (verdict := known(item)) is not None:
        state = state.fold(item, verdict)
    return state, item
