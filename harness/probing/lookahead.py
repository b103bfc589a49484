"""Probes run ahead on a few threads: a search names what it may need next, and takes each answer once.

Bisection and delta debugging both know, from their pure state, which probes they would ask for under each
verdict the current one could get; running those while the current probe runs turns idle cores into fewer
rounds. The searches never see a difference: they consume answers in their own order.

A guess (a probe the search may never ask for) must not hold a thread, or a core, hostage: a probe that can
tell it would first have to wait (for a fork worker to start, say) raises ``NotProbedAhead`` while
``guess_round()`` is non-zero, and is probed in earnest only if the search asks for it. That exception is no
outcome: nothing is recorded for it. Rounds are numbered across every search of the process, so whatever a
guess set going can be told apart from what a later round's guesses want.
"""

from __future__ import annotations

import contextvars
import functools
import itertools
import threading
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, Protocol, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

AtHand = Callable[[K], V | None]
"""An item's answer if a probe already made it (a guess that ran), else None."""
Waiting = Callable[[K], bool]
"""Whether an item's guess declined in this round (what it waits for is starting): it is not tried again."""
Plan = Callable[[AtHand[K, V], Waiting[K]], Sequence[K]]
"""A search's next items given the guesses so far: the one it wants now, then its guesses, likeliest first."""

_GUESS_ROUND = contextvars.ContextVar("harness_guess_round", default=0)
_ROUNDS = itertools.count(1)


K_contra = TypeVar("K_contra", bound=Hashable, contravariant=True)
V_co = TypeVar("V_co", covariant=True)


class Ahead(Protocol[K_contra, V_co]):
    """What a search's driver needs of a lookahead: ``Lookahead`` itself, or a view of one (``Keyed``)."""

    def start_planned(self, plan: Plan[K_contra, V_co], *, budget: int) -> None: ...

    def answer(self, item: K_contra) -> V_co: ...


class NotProbedAhead(Exception):
    """A guessed probe declined to run now; it is probed when, and if, it is asked for."""


def guess_round() -> int:
    """On a thread that runs a guess, the number of the round of guesses it belongs to (later rounds have larger
    numbers); 0 for a probe that is wanted. A guess may decline to wait, by raising ``NotProbedAhead``."""
    return _GUESS_ROUND.get()


class Lookahead(Generic[K, V]):
    """Runs probes ahead on a few threads and hands each answer over once; with one job, runs them in line.

    Items a caller wants are started at once; items it will want later (``queue``) and then guesses wait, and
    start as threads come free, so a guess that declined (or forked in a tenth of a second) makes room for the
    next. Each new list of guesses is a new round and replaces the last.
    """

    def __init__(self, probe: Callable[[K], V], jobs: int) -> None:
        self._probe = probe
        self._jobs = max(1, jobs)
        self._pool = ThreadPoolExecutor(max_workers=self._jobs) if self._jobs > 1 else None
        self._started: dict[K, Future[V]] = {}
        self._queued: list[K] = []
        """Items queued for later (``queue``): they start before any guess."""
        self._guesses: list[K] = []
        """Guesses not started yet; each new list of them replaces the last (the search has moved on)."""
        self._round = 0
        """The round the queued guesses belong to."""
        self._in_flight: set[Future[V]] = set()
        """Submitted and not done, whoever asked: guesses start only while this is below ``jobs``."""
        self._plan: Plan[K, V] | None = None
        """The plan the queued guesses came from (``start_planned``), asked again whenever a probe is answered or
        a guess of its round declines."""
        self._guessed: dict[Future[V], tuple[K, int]] = {}
        """Guesses not done yet: the item and the round of each."""
        self._waiting: set[K] = set()
        """Items whose guess declined in this round."""
        self._budget: int | None = None
        """Guesses of the round that may still run probes (``start_planned``; one that declines gives its place
        back); None: no limit but the list's length."""
        self._lock = threading.RLock()  # a callback may run at once, on the thread that holds it

    def __enter__(self) -> Lookahead[K, V]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            with self._lock:
                # Nothing more is guessed or queued once the caller is done.
                self._guesses, self._queued, self._plan = [], [], None
            # Probes already running finish (their records are real answers for a later run); queued ones don't.
            self._pool.shutdown(wait=True, cancel_futures=True)

    def start(self, items: Sequence[K], *, guesses: bool = False) -> None:
        """Start ``items`` in their order while threads are free; ``guesses``: the caller may never ask for them,
        and those that find no free thread now wait for one (in place of the guesses given before)."""
        if self._pool is None:
            return
        with self._lock:
            if guesses:
                self._guesses, self._round = list(items), next(_ROUNDS)
                self._plan, self._budget = None, None
                self._start_guesses()
                return
            for item in items:
                if len(self._in_flight) < self._jobs and self._startable(item):
                    self._submit(item, self._probe)

    def queue(self, items: Sequence[K]) -> None:
        """Items the caller will ask for later, whatever happens in between (a bisection's re-probes of a step it
        has found, while it searches for the next): started as threads come free, before any guess, in their
        order, and probed as wanted (they never decline)."""
        if self._pool is None:
            return
        with self._lock:
            self._queued += [item for item in items if item not in self._queued and self._startable(item)]
            self._start_guesses()

    def start_next(self, items: Sequence[K]) -> None:
        """A search's next items: the first is wanted now, the rest are guesses at what it will want after."""
        self.start(items[:1])
        self.start(items[1:], guesses=True)

    def start_planned(self, plan: Plan[K, V], *, budget: int) -> None:
        """Like ``start_next`` with ``plan``'s items, asking ``plan`` again each time one of this round's guesses is
        answered: a guess's real answer settles which way its branch goes, so the next plan guesses deeper along
        the path the search will take. At most ``budget`` of the round's guesses run probes: one that
        declines gives its place back (it readied an environment, and started what it waits for)."""
        if self._pool is None:
            return
        with self._lock:
            self._round, self._waiting = next(_ROUNDS), set()
            items = plan(self._at_hand, self._waiting.__contains__)
            self.start(items[:1])
            self._guesses, self._plan, self._budget = list(items[1:]), plan, budget
            self._start_guesses()

    def _at_hand(self, item: K) -> V | None:
        future = self._started.get(item)
        if future is None or not future.done() or future.cancelled() or future.exception() is not None:
            return None
        return future.result()

    def answer(self, item: K) -> V:
        if self._pool is None:
            return self._probe(item)
        with self._lock:
            future = self._started.pop(item, None)
            if item in self._guesses:
                self._guesses.remove(item)
            if item in self._queued:
                self._queued.remove(item)
        if future is not None:
            try:
                return future.result()
            except NotProbedAhead:
                pass  # the guess declined to wait: probe it now that it is wanted
        # Every thread may be busy probing ahead: this queues behind them, keeping the bound.
        with self._lock:
            wanted = self._submit(item, self._probe, kept=False)
        return wanted.result()

    def _startable(self, item: K) -> bool:
        return item not in self._started or _declined(self._started[item])

    def _submit(self, item: K, probe: Callable[[K], V], *, guess: bool = False, kept: bool = True) -> Future[V]:
        """Submit ``probe(item)``; ``kept``: its future is kept for ``answer`` (not for one being answered now)."""
        assert self._pool is not None
        future = self._pool.submit(probe, item)
        self._in_flight.add(future)
        if kept:
            self._started[item] = future
        if guess:
            self._guessed[future] = (item, self._round)
        # Last: for a probe already done (a guess that declined at once) the callback runs here and now.
        future.add_done_callback(self._finished)
        return future

    def _finished(self, future: Future[V]) -> None:
        with self._lock:
            self._in_flight.discard(future)
            guessed = self._guessed.pop(future, None)
            answered = not future.cancelled() and future.exception() is None
            waiting = guessed is not None and guessed[1] == self._round and _declined(future)
            if guessed is not None and waiting:
                self._waiting.add(guessed[0])
                if self._budget is not None:
                    self._budget += 1  # it ran nothing: the budget counts probes made, not environments readied
            if self._plan is not None and (answered or waiting):
                planned = self._plan(self._at_hand, self._waiting.__contains__)[1:]
                self._guesses = [item for item in planned if self._startable(item) and item not in self._waiting]
            self._start_guesses()

    def _start_guesses(self) -> None:
        with self._lock:
            while self._queued and len(self._in_flight) < self._jobs:
                item = self._queued.pop(0)
                if self._startable(item):
                    self._submit(item, self._probe)
            while self._guesses and len(self._in_flight) < self._jobs and self._budget != 0:
                item = self._guesses.pop(0)
                if self._startable(item):
                    self._submit(item, functools.partial(self._guess, self._round), guess=True)
                    if self._budget is not None:
                        self._budget -= 1

    def _guess(self, number: int, item: K) -> V:
        token = _GUESS_ROUND.set(number)
        try:
            return self._probe(item)
        finally:
            _GUESS_ROUND.reset(token)


def _declined(future: Future[V]) -> bool:
    """A guess that declined earlier may be tried again: what it waited for may be ready by now."""
    return future.done() and not future.cancelled() and isinstance(future.exception(), NotProbedAhead)


T = TypeVar("T", bound=Hashable)


class Keyed(Generic[T, K, V]):
    """One kind of probe of a lookahead shared by several: ``key`` turns this kind's items into the lookahead's
    keys, so that a bisection's searches and its confirmation re-probes share one set of threads (and so the
    bound on probes at once) while each is asked for in its own terms."""

    def __init__(self, ahead: Lookahead[K, V], key: Callable[[T], K]) -> None:
        self._ahead = ahead
        self._key = key

    def start_planned(self, plan: Plan[T, V], *, budget: int) -> None:
        def keyed(at_hand: AtHand[K, V], waiting: Waiting[K]) -> list[K]:
            items = plan(lambda item: at_hand(self._key(item)), lambda item: waiting(self._key(item)))
            return [self._key(item) for item in items]

        self._ahead.start_planned(keyed, budget=budget)

    def answer(self, item: T) -> V:
        return self._ahead.answer(self._key(item))
