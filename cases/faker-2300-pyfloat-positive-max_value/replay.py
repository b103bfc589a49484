"""Faker: pyfloat(positive=True, max_value=...) raises TypeError when the draw overshoots max_value.

Upstream: https://github.com/joke2k/faker/issues/2300 (same root cause reported earlier as #1907).
The boundary-adjustment code added in Faker 18.3.4 (PR #1826) computes ``max_value - min_value``
although ``min_value`` is None when only ``positive=True`` is given. PR #1908 fixed it in 19.6.2, its
revert broke it again in 19.9.1, and PR #2302 fixed it for good in 40.1.3.
Seeded, so every run of a given release draws the same numbers (bad releases fail on the first call).
"""

from faker import Faker


def replay(max_value: float = 0.1, calls: int = 200, seed: int = 1234) -> None:
    fake = Faker()
    fake.seed_instance(seed)
    for _ in range(calls):
        fake.pyfloat(positive=True, max_value=max_value)


if __name__ == "__main__":
    replay()
