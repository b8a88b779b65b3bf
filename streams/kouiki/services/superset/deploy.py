"""Bring a local Superset up to date with the committed bundle, the roles and the published data:
bootstrap, start, and refresh after each publish. Each step is safe to repeat."""

from __future__ import annotations

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
        admin_client(settings).link_charts_to_datasets()
        apply_security(settings)


def start(settings: Settings, timeout: float = START_TIMEOUT_S) -> str:
    """Start the server, point the imported charts at their datasets and apply the roles; its URL."""
    url = start_server(settings, timeout)
    admin_client(settings).link_charts_to_datasets()
    apply_security(settings)
    return url


def refresh_after_publish(settings: Settings) -> list[int]:
    """After a publish, make the running Superset drop cached results of the old serving file."""
    if not is_running(settings):
        return []  # start_server() drops the on-disk result cache anyway
    apply_security(settings, only_new=True)  # a new serving file may name new consortia
    return admin_client(settings).refresh_datasets()
