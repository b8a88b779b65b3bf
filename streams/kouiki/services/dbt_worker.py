"""The warm dbt worker (infra/dbt/worker.py): one dbt process per data directory that keeps the
parsed project in memory, so each build the platform runs skips dbt's start-up and parsing.

``kouiki.warehouse.dbt`` sends it every dbt command while it listens; before it is ready, after it
stopped, or where it was never started (a bare ``kouiki build``), dbt runs in a new process, so the
worker only makes builds faster, never different.
"""

from __future__ import annotations

import time

from kouiki.config import Settings
from kouiki.services import processes
from kouiki.warehouse.dbt import dbt_env, project_dir, worker_socket

SERVICE = "dbt-worker"
SOCKET_PATH_LIMIT = 107  # bytes in sockaddr_un.sun_path on Linux, less the terminating NUL


def start(settings: Settings, wait: float = 0.0) -> str:
    """Start the worker if it is not running; wait up to ``wait`` seconds for it to listen (it
    parses the project first). Returns a line for the operator."""
    path = worker_socket(settings)
    if len(str(path).encode()) > SOCKET_PATH_LIMIT:
        return f"not started: the socket path {path} is too long; dbt runs as a new process per build"
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    folder = project_dir(settings)
    worker = settings.project_root / "infra" / "dbt" / "worker.py"
    python = settings.venv_executable(".venv-dbt", "python")
    argv = [str(python), str(worker), "--socket", str(path), "--project-dir", str(folder)]
    pid = processes.start(settings.run_dir, SERVICE, argv, env=dbt_env(settings), cwd=folder)
    deadline = time.monotonic() + wait
    while not path.exists() and time.monotonic() < deadline and processes.is_alive(pid):
        time.sleep(0.1)
    state = "listening" if path.exists() else "parsing the project"
    return f"running (pid {pid}), {state} on {path}"


def stop(settings: Settings) -> bool:
    """Stop the worker (a build it runs is cut short, as a killed dbt would be: callers stop the
    scheduler first)."""
    stopped = processes.stop(settings.run_dir, SERVICE, timeout=30)
    worker_socket(settings).unlink(missing_ok=True)
    return stopped
