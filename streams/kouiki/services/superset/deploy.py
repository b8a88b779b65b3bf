"""Bring Superset up to date with the committed bundle, the roles and the published data: bootstrap,
start, configure, and refresh after each publish. Each step is safe to repeat.

``configure`` and ``refresh_after_publish`` work over the REST API, so they reach the local Superset
and, with ``KOUIKI_SUPERSET_URL``, one the platform does not start (compose's ``superset`` service):
the same roles, row-level security and users either way."""

from __future__ import annotations

from typing import Any

from kouiki.config import Settings
from kouiki.services.superset.api import admin_client
from kouiki.services.superset.bundle import import_assets
from kouiki.services.superset.process import START_TIMEOUT_S, ensure_admin, is_running, run_cli, start_server
from kouiki.services.superset.security import apply_security


def bootstrap(settings: Settings) -> None:
    """Bring the metadata DB, admin user, roles and assets up to date.

    Chart links, roles and row-level security go through the REST API, so they are applied here
    when Superset is already running and otherwise by ``start``.
    """
    run_cli(settings, ["db", "upgrade"])
    ensure_admin(settings)
    run_cli(settings, ["init"])
    import_assets(settings)
    if is_running(settings):
        configure(settings)


def start(settings: Settings, timeout: float = START_TIMEOUT_S) -> str:
    """Start the server and ``configure`` it; its URL."""
    url = start_server(settings, timeout)
    configure(settings)
    return url


def configure(settings: Settings) -> dict[str, Any]:
    """Point the imported charts at their datasets, then apply the Cabinet Office and secretariat roles,
    row-level security and the Kouiki directory's users (``apply_security``); what was applied."""
    admin_client(settings).link_charts_to_datasets()
    return apply_security(settings)


def reachable(settings: Settings) -> bool:
    """Whether there is a Superset to keep up to date: the one ``KOUIKI_SUPERSET_URL`` names, or a local
    one the platform started."""
    return bool(settings.superset_url) or is_running(settings)


def refresh_after_publish(settings: Settings) -> list[int]:
    """After a publish, make Superset drop cached results of the old serving file."""
    if not reachable(settings):
        return []  # start_server() drops the on-disk result cache anyway
    apply_security(settings, only_new=True)  # a new serving file may name new consortia
    return admin_client(settings).refresh_datasets()
