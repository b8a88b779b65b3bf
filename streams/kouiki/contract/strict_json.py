"""Strict JSON parsing for located explanations: duplicate keys and NaN/Infinity are errors."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any


class DuplicateKeyError(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        duplicate = next(key for key, count in Counter(k for k, _ in pairs).items() if count > 1)
        raise DuplicateKeyError(f"duplicate key {duplicate!r}")
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str) -> Any:
    """Parse ``text``; a repeated key or a NaN/Infinity constant raises ValueError."""
    return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant)
