"""Superset's processes: the ``superset`` CLI and the gunicorn server, run from ``.venv-superset``.

Superset is never imported here: its dependency set conflicts with the platform's, so it runs as
subprocesses and is reached over its REST API (``api``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import requests

from kouiki.config import Settings
from kouiki.services import processes, secrets_store

SERVICE = "superset"
HOST = "127.0.0.1"
ADMIN_USERNAME = secrets_store.ADMIN_USERNAME
DASHBOARD_SLUG = "kouiki-overview"
START_TIMEOUT_S = 120.0
CLI_TIMEOUT_S = 600.0
LOG_TAIL_LINES = 40


class SupersetError(processes.ServiceError):
    """Superset could not be bootstrapped, started or queried."""


def superset_home(settings: Settings) -> Path:
    """Metadata DB, cache and generated secrets; lives with the other run-time state."""
    return settings.run_dir / "superset"


def config_path(settings: Settings) -> Path:
    return settings.project_root / "infra" / "superset" / "superset_config.py"


def base_url(settings: Settings) -> str:
    """The Superset ``KOUIKI_SUPERSET_URL`` names, else the local one."""
    return settings.superset_url.rstrip("/") or f"http://{HOST}:{settings.superset_port}"


def dashboard_url(settings: Settings) -> str:
    return f"{base_url(settings)}/superset/dashboard/{DASHBOARD_SLUG}/"


def secret_key(settings: Settings) -> str:
    return secrets_store.stored_secret(settings, "superset_secret_key", settings.superset_secret_key, nbytes=42)


def credentials(settings: Settings) -> tuple[str, str]:
    """Admin login; the password is never a default one."""
    return ADMIN_USERNAME, secrets_store.admin_password(settings)


def data_cache_dir(settings: Settings) -> Path:
    """Chart result cache; must match DATA_CACHE_CONFIG in infra/superset/superset_config.py."""
    return superset_home(settings) / "cache" / "data"


def identity_store_url(settings: Settings) -> str:
    from kouiki.identity import store  # SQLAlchemy: only when Superset is started

    store.engine(settings)  # created (tables and all) before Superset opens it read-only
    return store.url(settings)


def superset_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SUPERSET_CONFIG_PATH=str(config_path(settings)),
        SUPERSET_SECRET_KEY=secret_key(settings),
        # kouiki_login.py checks Kouiki users' passwords against the identity store
        KOUIKI_IDENTITY_DB_URL=identity_store_url(settings),
        KOUIKI_SUPERSET_HOME=str(superset_home(settings)),
        # asset YAML is Japanese text and Superset opens it with the locale's encoding
        PYTHONUTF8="1",
    )
    return env


def log_tail(text: str) -> str:
    return "\n".join(text.splitlines()[-LOG_TAIL_LINES:])


def run_cli(settings: Settings, args: list[str], extra_env: Mapping[str, str] | None = None) -> str:
    """Run one ``superset`` CLI command; append its output to run/logs/superset-cli.log and return it."""
    home = superset_home(settings)
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o700)  # metadata DB holds password hashes and the cache holds query results
    env = superset_env(settings)
    env.update(extra_env or {})
    proc = subprocess.run(
        [str(settings.venv_executable(".venv-superset", "superset")), *args],
        env=env,
        cwd=home,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
    )
    output = proc.stdout + proc.stderr
    log = processes.log_file(settings.run_dir, "superset-cli")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as f:
        f.write(f"$ superset {' '.join(args)}\n{output}\n")
    if proc.returncode != 0:
        raise SupersetError(f"superset {args[0]} failed (exit {proc.returncode}):\n{log_tail(output)}")
    return output


def ensure_admin(settings: Settings) -> None:
    """Create the admin user, or reset its password to the current one if it already exists."""
    username, password = credentials(settings)
    # Flask's CLI reads options from FLASK_<GROUP>_<COMMAND>_<OPTION>, which keeps the password out of
    # the process list.
    output = run_cli(
        settings,
        [
            "fab",
            "create-admin",
            "--username",
            username,
            "--firstname",
            "Kouiki",
            "--lastname",
            "Admin",
            "--email",
            "admin@kouiki.invalid",
        ],
        {"FLASK_FAB_CREATE_ADMIN_PASSWORD": password},
    )
    if "already exists" in output:
        run_cli(
            settings, ["fab", "reset-password", "--username", username], {"FLASK_FAB_RESET_PASSWORD_PASSWORD": password}
        )


def is_running(settings: Settings) -> bool:
    return processes.read_pid(settings.run_dir, SERVICE) is not None


def is_healthy(url: str) -> bool:
    try:
        response = requests.get(f"{url}/health", timeout=2)
    except requests.RequestException:
        return False
    return response.status_code == 200 and response.text.strip() == "OK"


def _server_log_tail(settings: Settings) -> str:
    try:
        return log_tail(processes.log_file(settings.run_dir, SERVICE).read_text(errors="replace"))
    except FileNotFoundError:
        return ""


def wait_until_healthy(settings: Settings, url: str, pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not is_healthy(url):
        if not processes.is_alive(pid):
            raise SupersetError(f"Superset exited during start-up:\n{_server_log_tail(settings)}")
        if time.monotonic() > deadline:
            raise SupersetError(f"Superset not healthy after {timeout:.0f} s:\n{_server_log_tail(settings)}")
        time.sleep(0.5)


def start_server(settings: Settings, timeout: float = START_TIMEOUT_S) -> str:
    """Start gunicorn serving Superset on 127.0.0.1 (if not already running); return its URL."""
    url = base_url(settings)
    if not is_running(settings):
        if processes.port_in_use(HOST, settings.superset_port):
            raise SupersetError(f"port {settings.superset_port} is taken by another process (set KOUIKI_SUPERSET_PORT)")
        # results cached before a restart may come from a serving file replaced while Superset was down
        shutil.rmtree(data_cache_dir(settings), ignore_errors=True)
    argv = [
        str(settings.venv_executable(".venv-superset", "gunicorn")),
        "-w",
        "2",
        "-k",
        "gthread",
        "--threads",
        "4",
        "--timeout",
        "120",
        "-b",
        f"{HOST}:{settings.superset_port}",
        "superset.app:create_app()",
    ]
    pid = processes.start(settings.run_dir, SERVICE, argv, superset_env(settings), cwd=superset_home(settings))
    try:
        wait_until_healthy(settings, url, pid, timeout)
    except SupersetError:
        processes.stop(settings.run_dir, SERVICE)
        raise
    return url


def stop(settings: Settings) -> bool:
    return processes.stop(settings.run_dir, SERVICE, timeout=30.0)
