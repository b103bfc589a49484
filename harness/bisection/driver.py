"""The one loop that drives a TransitionSearch: propose, probe through a callable, fold the verdict in, tell a handler.

Releases, commits and the tests all run their searches through ``run_search``; what a probe does (build an
environment, answer from a stored record, read a table) is the caller's callable, and what the user sees is
the handler's business, in the manner of mozregression's ``BisectorHandler``. Nothing here does I/O.

With ``jobs`` > 1 the driver probes ahead: while the item the search asks for runs, it also runs the items
the search would ask for next under each verdict it could get (a breadth-first walk of the search's
immutable states, folded with hypothetical GOOD and BAD verdicts), so a bracket shrinks by more than half per
round. The search itself is untouched: it consumes exactly the probes, in exactly the order, that it would
with one job, so its answer and its probe bound are the same. The extra cost is bounded: at most ``jobs``
probes run at once, and at most ``GUESSES_PER_JOB * jobs - 1`` guesses are started ahead of each probe the
search consumes. A guess (``Lookahead.start_next``) that would first wait for something slow (a fork worker
importing torch) declines at once, getting that ready in the background, and is probed only if the search
asks for it; so the guesses cost little, and reach two or three verdicts ahead.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from harness.bisection.search import BisectVerdict, Direction, SearchResult, TransitionSearch, VerdictPolicy
from harness.model.outcome import Outcome, Repeats
from harness.probing.lookahead import Lookahead

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
) -> SearchRun[T, A]:
    """Probe what ``search`` proposes until it is finished; ``probe`` is called at most once per item.

    ``probe`` must be safe to call from several threads when ``jobs`` > 1; the handler is only ever called
    from this thread, in the order the search consumes the probes.
    """
    told: SearchHandler[T] = handler if handler is not None else SearchHandler()
    probes: list[Probed[T, A]] = []
    with Lookahead(probe, jobs) as ahead:
        while (item := search.next_probe()) is not None:
            event = ProbeEvent(search.direction, item, len(probes) + 1, search.max_remaining())
            told.probe_started(event)
            ahead.start_next(lookahead(search, GUESSES_PER_JOB * jobs if jobs > 1 else 1))
            answer = ahead.answer(item)
            verdict = policy.verdict(answer.outcome, answer.repeats)
            probes.append(Probed(event, answer, verdict))
            told.probe_finished(event, answer, verdict)
            search = search.fold(item, verdict)
    result = search.result()
    told.finished(result)
    return SearchRun(result, tuple(probes))


def lookahead(search: TransitionSearch[T], width: int) -> list[T]:
    """The item ``search`` asks for now, then those it would ask for after each verdict, breadth first."""
    items: list[T] = []
    frontier = [search]
    while frontier and len(items) < width:
        following: list[TransitionSearch[T]] = []
        for state in frontier:
            item = state.next_probe()
            if item is None or item in items:
                continue
            items.append(item)
            if len(items) == width:
                break
            following += [state.fold(item, BisectVerdict.BAD), state.fold(item, BisectVerdict.GOOD)]
        frontier = following
    return items
