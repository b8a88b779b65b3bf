"""The REST gateway and the secretariat portal's pages as a local background service: uvicorn on
127.0.0.1:KOUIKI_PORTAL_PORT, tracked like the broker (pid file and log under ``<data dir>/run``)."""

from __future__ import annotations

import os
import sys

from kouiki.config import Settings
from kouiki.services import processes

SERVICE = "portal"
HOST = "127.0.0.1"


def base_url(settings: Settings) -> str:
    return f"http://{HOST}:{settings.portal_port}"


def start(settings: Settings, timeout: float = 30.0) -> int:
    """Start the gateway (if not running) and return its pid once it answers."""
    pid = processes.read_pid(settings.run_dir, SERVICE)
    if pid is None:
        if processes.port_in_use(HOST, settings.portal_port):
            raise processes.ServiceError(
                f"{HOST}:{settings.portal_port} is already in use by another process; "
                "set KOUIKI_PORTAL_PORT to a free port"
            )
        settings.run_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "kouiki.gateway.app:create_app",
            "--host",
            HOST,
            "--port",
            str(settings.portal_port),
            "--no-server-header",
            "--no-proxy-headers",  # the peer address is the client's: rate limits and audit rely on it
            "--timeout-graceful-shutdown",
            "10",
        ]
        pid = processes.start(settings.run_dir, SERVICE, argv, env=os.environ | settings.environment())
    processes.wait_for_port(HOST, settings.portal_port, timeout, pid)
    return pid


def stop(settings: Settings, timeout: float = 15.0) -> bool:
    return processes.stop(settings.run_dir, SERVICE, timeout=timeout)


def status(settings: Settings) -> str:
    pid = processes.read_pid(settings.run_dir, SERVICE)
    if pid is None:
        return f"portal: stopped ({base_url(settings)})"
    state = "answering" if processes.port_in_use(HOST, settings.portal_port) else "not answering"
    return f"portal: running, pid {pid}, {base_url(settings)} {state} (API docs: {base_url(settings)}/docs)"
