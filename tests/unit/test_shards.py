"""Shards: ``--shard K/N`` parsing, median-filled cost estimates, and the greedy cost-balanced assignment."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import ConfigError
from harness.repro.shards import Estimate, Shard, assign, estimate, parse_shard, shard_costs


@pytest.mark.parametrize(("text", "shard"), [("1/2", Shard(1, 2)), (" 3 / 4 ", Shard(3, 4)), ("1/1", Shard(1, 1))])
def test_parse_shard(text: str, shard: Shard) -> None:
    assert parse_shard(text) == shard
    assert str(shard) == f"{shard.index}/{shard.count}"


@pytest.mark.parametrize(
    ("text", "message"), [("0/2", "between 1 and N"), ("3/2", "between"), ("2", "K/N"), ("a/b", "K/N")]
)
def test_parse_shard_rejects(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_shard(text)


def test_unknown_costs_are_the_median_of_the_known_ones() -> None:
    found = estimate([("a", 10.0), ("b", None), ("c", 2.0), ("d", 4.0)])
    assert found == [
        Estimate("a", 10.0, True),
        Estimate("b", 4.0, False),
        Estimate("c", 2.0, True),
        Estimate("d", 4.0, True),
    ]


def test_with_no_known_cost_the_shards_balance_by_count() -> None:
    found = estimate([(label, None) for label in "abcde"])
    assert [len(shard) for shard in assign(found, 2)] == [3, 2]


def test_largest_first_to_the_cheapest_shard() -> None:
    found = estimate([("a", 1.0), ("b", 7.0), ("c", 4.0), ("d", 3.0), ("e", 3.0)])
    # 7 -> shard 1; 4 -> 2; 3 (d) -> 2 (4 < 7); 3 (e) -> 1 (7 = 7, the lower shard); 1 -> 2 (7 < 10).
    shards = assign(found, 2)
    assert shards == (("b", "e"), ("a", "c", "d"))  # each shard keeps the matrix order
    assert shard_costs(found, shards) == (10.0, 8.0)


def test_more_shards_than_combinations_leaves_some_empty() -> None:
    assert assign(estimate([("a", 1.0)]), 3) == (("a",), (), ())


costs = st.lists(st.one_of(st.none(), st.floats(min_value=0, max_value=1000)), min_size=0, max_size=40)


@given(costs=costs, count=st.integers(min_value=1, max_value=6))
def test_every_combination_is_in_exactly_one_shard_and_the_greedy_bound_holds(
    costs: list[float | None], count: int
) -> None:
    found = estimate([(f"c{i}", cost) for i, cost in enumerate(costs)])
    shards = assign(found, count)
    assert len(shards) == count
    assert sorted(label for shard in shards for label in shard) == sorted(e.label for e in found)
    assert shards == assign(found, count)  # deterministic
    loads = shard_costs(found, shards)
    # Longest-processing-time greedy: no shard exceeds the average load by more than the largest item.
    largest = max((e.seconds for e in found), default=0.0)
    assert max(loads, default=0.0) <= sum(loads) / count + largest + 1e-6
