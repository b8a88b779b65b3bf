"""The one error of open data, shown to the operator as a single line in Japanese and English."""

from __future__ import annotations


class OpenDataError(RuntimeError):
    """A snapshot cannot be written; the message says why and what to do."""
