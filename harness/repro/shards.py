"""Shards of a big matrix: cost estimates from stored timings and a deterministic, cost-balanced assignment."""

from __future__ import annotations

import heapq
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.errors import ConfigError

UNKNOWN_FALLBACK_SECONDS = 1.0
"""The cost of every combination when no timing is known at all: the shards then balance by count."""
_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based, as the user writes ``--shard 2/4``) of ``count``."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``K/N`` with 1 <= K <= N, as ``--shard`` takes it."""
    match = _SHARD.match(text)
    if match is None:
        raise ConfigError(f"--shard: expected K/N, such as 1/4; got {text!r}")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 1 <= index <= count:
        raise ConfigError(f"--shard: K must be between 1 and N; got {text!r}")
    return Shard(index, count)


@dataclass(frozen=True)
class Estimate:
    """What one combination is expected to cost: its stored probes' seconds, or the median of the known ones."""

    label: str
    seconds: float
    known: bool
    """False when no stored record timed it and ``seconds`` is the median of the known combinations."""


def estimate(costs: Sequence[tuple[str, float | None]]) -> list[Estimate]:
    """Fill each unknown cost (None) with the median of the known ones, keeping the order given."""
    known = [seconds for _, seconds in costs if seconds is not None]
    fallback = statistics.median(known) if known else UNKNOWN_FALLBACK_SECONDS
    return [Estimate(label, fallback if seconds is None else seconds, seconds is not None) for label, seconds in costs]


def assign(estimates: Sequence[Estimate], count: int) -> tuple[tuple[str, ...], ...]:
    """``count`` shards of labels: largest cost first, each to the shard with the least cost so far.

    This is mypy_primer's greedy (longest processing time first), within 4/3 of the best makespan. Ties are
    broken by position in ``estimates`` and by shard number, so every job that computes it agrees.
    Each shard keeps its labels in the order given, so a shard runs its combinations in matrix order.
    """
    if count < 1:
        raise ValueError("at least one shard")
    order = sorted(range(len(estimates)), key=lambda i: (-estimates[i].seconds, i))
    loads = [(0.0, shard) for shard in range(count)]
    members: list[list[int]] = [[] for _ in range(count)]
    for position in order:
        load, shard = heapq.heappop(loads)
        members[shard].append(position)
        heapq.heappush(loads, (load + estimates[position].seconds, shard))
    return tuple(tuple(estimates[i].label for i in sorted(chosen)) for chosen in members)


def shard_costs(estimates: Sequence[Estimate], shards: Sequence[Sequence[str]]) -> tuple[float, ...]:
    """The estimated seconds of each shard."""
    by_label: Mapping[str, float] = {e.label: e.seconds for e in estimates}
    return tuple(sum(by_label[label] for label in shard) for shard in shards)
