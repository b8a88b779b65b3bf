"""Secrets of the local platform: taken from the settings (the environment) when set, otherwise generated once
per data directory and kept in ``<data_dir>/run/secrets`` with mode 0600. Never a default value."""

from __future__ import annotations

import os
import secrets

from kouiki.config import Settings

ADMIN_USERNAME = "admin"


def stored_secret(settings: Settings, name: str, configured: str = "", nbytes: int = 32) -> str:
    """``configured`` when set, otherwise the secret generated for this data directory."""
    if configured:
        return configured
    path = settings.run_dir / "secrets" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.parent.chmod(0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process generated it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(nbytes) + "\n")
    return path.read_text().strip()


def admin_password(settings: Settings) -> str:
    """The one admin login of Airflow and Superset."""
    return stored_secret(settings, "admin_password", settings.admin_password, nbytes=18)
