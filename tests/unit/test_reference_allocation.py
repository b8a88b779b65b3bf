"""The test-side reference allocation itself must add back exactly (it is what the marts are held to)."""

from __future__ import annotations

import random

from tests.support.reference import split_by_largest_remainder


def test_known_split() -> None:
    assert split_by_largest_remainder(100, {"13": 0.33, "14": 0.33, "11": 0.34}) == {"11": 34, "13": 33, "14": 33}
    assert split_by_largest_remainder(1, {"02": 0.5, "01": 0.5}) == {"01": 1, "02": 0}


def test_parts_always_add_back() -> None:
    rng = random.Random(0)
    for _ in range(500):
        amount = rng.randrange(0, 10**12)
        weights = [rng.randrange(1, 20) for _ in range(rng.randint(1, 6))]
        shares = {f"{i + 1:02d}": w / sum(weights) for i, w in enumerate(weights)}
        assert sum(split_by_largest_remainder(amount, shares).values()) == amount
