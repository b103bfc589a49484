"""Environments of the probes to come, prepared a few at once while the probes before them run.

Preparing a probe's environment is mostly waiting: ``uv pip compile`` asks the index again for every project
of the resolution (~0.4 s, of which a quarter is CPU), and an install mostly links files from uv's cache. A
probe, by contrast, keeps a core busy. So the environments of the probes queued next are prepared beside
them, on threads of their own, and a probe takes its environment ready-made. Which probe runs, and in what
order, does not change: only when its environment was made.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from typing import Generic, TypeVar

from harness.environments.interface import BuildFailure, Environment

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")

Prepared = Environment | BuildFailure
PREPARED_AHEAD = 3
"""Environments prepared at once ahead of the probes: enough to keep the index's round trips overlapped, few
enough that their CPU share (uv's, ~0.1 s each) does not slow the probes down on two cores."""


class PreparingAhead(Generic[K, R]):
    """Prepares queued requests in their order, ``width`` at a time; each result is taken once, by its probe.

    Only ``width`` preparations are ever handed to the thread pool, so that closing (or the interpreter's
    exit, which finishes whatever a pool was handed) waits for those alone.
    """

    def __init__(self, prepare: Callable[[R], Prepared], width: int = PREPARED_AHEAD) -> None:
        self._prepare = prepare
        self._width = width
        self._pool: ThreadPoolExecutor | None = None
        self._queued: dict[K, R] = {}
        """Waiting for a thread, in the order they were queued."""
        self._started: dict[K, Future[Prepared]] = {}
        self._taken: set[K] = set()
        self._closed = False
        self._lock = threading.RLock()  # a callback runs at once, on the submitting thread, if its work is done

    def queue(self, key: K, request: R) -> None:
        """Prepare ``request`` when a thread is free, unless ``key`` is queued, started or taken already."""
        if self._width < 1:
            return
        with self._lock:
            if self._closed or key in self._queued or key in self._started or key in self._taken:
                return
            self._queued[key] = request
            self._start_next()

    def take(self, key: K) -> Prepared | None:
        """What was prepared for ``key``, waiting for it if it is being prepared; None when it was not started
        (it is dropped from the queue: the caller prepares it now) or its preparation raised."""
        with self._lock:
            self._queued.pop(key, None)
            self._taken.add(key)
            future = self._started.pop(key, None)
        if future is None:
            return None
        try:
            return future.result()
        except (CancelledError, Exception):  # the probe prepares it itself, and meets the error there if any
            return None

    def close(self) -> None:
        """Preparations under way finish; queued ones are dropped."""
        with self._lock:
            self._closed = True
            self._queued.clear()
            pool = self._pool
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _start_next(self) -> None:
        """Under the lock: hand queued requests to the pool while fewer than ``width`` are under way."""
        while self._queued and not self._closed and self._running() < self._width:
            key = next(iter(self._queued))
            request = self._queued.pop(key)
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._width, thread_name_prefix="harness-prepare")
            future = self._pool.submit(self._prepare, request)
            self._started[key] = future
            future.add_done_callback(self._finished)

    def _running(self) -> int:
        return sum(1 for future in self._started.values() if not future.done())

    def _finished(self, _: Future[Prepared]) -> None:
        with self._lock:
            self._start_next()
