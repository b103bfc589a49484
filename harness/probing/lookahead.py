"""Probes run ahead on a few threads: a search names what it may need next, and takes each answer once.

Bisection and delta debugging both know, from their pure state, which probes they would ask for under each
verdict the current one could get; running those while the current probe runs turns idle cores into fewer
rounds. The searches never see a difference: they consume answers in their own order.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Lookahead(Generic[K, V]):
    """Runs probes ahead on a few threads and hands each answer over once; with one job, runs them in line."""

    def __init__(self, probe: Callable[[K], V], jobs: int) -> None:
        self._probe = probe
        self._jobs = max(1, jobs)
        self._pool = ThreadPoolExecutor(max_workers=self._jobs) if self._jobs > 1 else None
        self._started: dict[K, Future[V]] = {}

    def __enter__(self) -> Lookahead[K, V]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            # Probes already running finish (their records are real answers for a later run); queued ones don't.
            self._pool.shutdown(wait=True, cancel_futures=True)

    def start(self, items: Sequence[K]) -> None:
        if self._pool is None:
            return
        for item in items:
            running = sum(1 for future in self._started.values() if not future.done())
            if item not in self._started and running < self._jobs:
                self._started[item] = self._pool.submit(self._probe, item)

    def answer(self, item: K) -> V:
        if self._pool is None:
            return self._probe(item)
        future = self._started.pop(item, None)
        if future is None:  # every thread was busy probing ahead: queue it behind them, keeping the bound
            future = self._pool.submit(self._probe, item)
        return future.result()
