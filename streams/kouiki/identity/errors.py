"""The one error of the identity package: a request the directory refuses, with a one-line reason."""

from __future__ import annotations


class IdentityError(RuntimeError):
    """Unknown or duplicate user or key, a bad consortium code, an unreadable secret: one clear line."""
