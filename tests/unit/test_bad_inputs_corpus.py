"""The bad-input corpus itself (tests/support/bad_inputs.py): enough cases, none twice. Its cases are
pushed through the real broker in tests/integration/test_bad_inputs.py."""

from __future__ import annotations

from tests.support.bad_inputs import CASES


def test_the_corpus_has_at_least_forty_distinct_cases() -> None:
    assert len({c.name for c in CASES}) == len(CASES) >= 40
    assert len({(c.topic, c.raw) for c in CASES}) == len(CASES)
