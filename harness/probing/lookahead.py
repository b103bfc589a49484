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
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_GUESS_ROUND = contextvars.ContextVar("harness_guess_round", default=0)
_ROUNDS = itertools.count(1)


class NotProbedAhead(Exception):
    """A guessed probe declined to run now; it is probed when, and if, it is asked for."""


def guess_round() -> int:
    """On a thread that runs a guess, the number of the round of guesses it belongs to (later rounds have larger
    numbers); 0 for a probe that is wanted. A guess may decline to wait, by raising ``NotProbedAhead``."""
    return _GUESS_ROUND.get()


class Lookahead(Generic[K, V]):
    """Runs probes ahead on a few threads and hands each answer over once; with one job, runs them in line.

    Items a caller wants are started at once; guesses wait in a queue, newest list first, and start as threads
    come free, so a guess that declined (or forked in a tenth of a second) makes room for the next.
    """

    def __init__(self, probe: Callable[[K], V], jobs: int) -> None:
        self._probe = probe
        self._jobs = max(1, jobs)
        self._pool = ThreadPoolExecutor(max_workers=self._jobs) if self._jobs > 1 else None
        self._started: dict[K, Future[V]] = {}
        self._guesses: list[K] = []
        """Guesses not started yet; each new list of them replaces the last (the search has moved on)."""
        self._round = 0
        """The round the queued guesses belong to."""
        self._in_flight: set[Future[V]] = set()
        """Submitted and not done, whoever asked: guesses start only while this is below ``jobs``."""
        self._lock = threading.RLock()  # a callback may run at once, on the thread that holds it

    def __enter__(self) -> Lookahead[K, V]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            with self._lock:
                self._guesses = []
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
                self._start_guesses()
                return
            for item in items:
                if len(self._in_flight) < self._jobs and self._startable(item):
                    self._started[item] = self._submit(item, self._probe)

    def start_next(self, items: Sequence[K]) -> None:
        """A search's next items: the first is wanted now, the rest are guesses at what it will want after."""
        self.start(items[:1])
        self.start(items[1:], guesses=True)

    def answer(self, item: K) -> V:
        if self._pool is None:
            return self._probe(item)
        with self._lock:
            future = self._started.pop(item, None)
            if item in self._guesses:
                self._guesses.remove(item)
        if future is not None:
            try:
                return future.result()
            except NotProbedAhead:
                pass  # the guess declined to wait: probe it now that it is wanted
        # Every thread may be busy probing ahead: this queues behind them, keeping the bound.
        with self._lock:
            wanted = self._submit(item, self._probe)
        return wanted.result()

    def _startable(self, item: K) -> bool:
        return item not in self._started or _declined(self._started[item])

    def _submit(self, item: K, probe: Callable[[K], V]) -> Future[V]:
        assert self._pool is not None
        future = self._pool.submit(probe, item)
        self._in_flight.add(future)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, future: Future[V]) -> None:
        with self._lock:
            self._in_flight.discard(future)
            self._start_guesses()

    def _start_guesses(self) -> None:
        with self._lock:
            while self._guesses and len(self._in_flight) < self._jobs:
                item = self._guesses.pop(0)
                if self._startable(item):
                    self._started[item] = self._submit(item, functools.partial(self._guess, self._round))

    def _guess(self, number: int, item: K) -> V:
        token = _GUESS_ROUND.set(number)
        try:
            return self._probe(item)
        finally:
            _GUESS_ROUND.reset(token)


def _declined(future: Future[V]) -> bool:
    """A guess that declined earlier may be tried again: what it waited for may be ready by now."""
    return future.done() and not future.cancelled() and isinstance(future.exception(), NotProbedAhead)
