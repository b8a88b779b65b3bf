"""Start, find and stop the local background services (broker, Airflow, Superset).

Each service runs in its own session (process group) so that stopping it reaches every child,
and is tracked by a pid file under ``<data_dir>/run``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil


class ServiceError(RuntimeError):
    """A local service could not be started or did not become ready."""


def pid_file(run_dir: Path, name: str) -> Path:
    return run_dir / f"{name}.pid"


def log_file(run_dir: Path, name: str) -> Path:
    return run_dir / "logs" / f"{name}.log"


def read_pid(run_dir: Path, name: str) -> int | None:
    """The pid of a running service, or None (a stale pid file is removed)."""
    path = pid_file(run_dir, name)
    try:
        pid = int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    if is_alive(pid):
        return pid
    path.unlink(missing_ok=True)
    return None


def is_alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie child of ours counts as dead."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def start(
    run_dir: Path, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> int:
    """Start ``argv`` detached in a new session, logging to run/logs/<name>.log; return its pid."""
    existing = read_pid(run_dir, name)
    if existing:
        return existing
    log = log_file(run_dir, name)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    pid_file(run_dir, name).write_text(f"{proc.pid}\n")
    return proc.pid


def stop(run_dir: Path, name: str, timeout: float = 20.0, group: bool = True) -> bool:
    """SIGTERM the service (its whole process group unless group=False), SIGKILL the group after
    ``timeout`` seconds. Returns True if something was running."""
    pid = read_pid(run_dir, name)
    if pid is None:
        return False
    _signal(pid, signal.SIGTERM, group)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (is_alive(pid) or _group_alive(pid)):
        _reap(pid)
        time.sleep(0.2)
    if is_alive(pid) or _group_alive(pid):
        _signal(pid, signal.SIGKILL, True)
        time.sleep(0.2)
        _reap(pid)
    pid_file(run_dir, name).unlink(missing_ok=True)
    return True


def _signal(pid: int, sig: signal.Signals, group: bool) -> None:
    try:
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _group_alive(pgid: int) -> bool:
    """Whether any live (non-zombie) process remains in process group ``pgid``."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return any(_pgid_of(p) == pgid and is_alive(p) for p in psutil.pids())


def _pgid_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def wait_for_port(host: str, port: int, timeout: float, pid: int | None = None) -> None:
    """Block until ``host:port`` accepts TCP connections; fail early if ``pid`` dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid is not None and not is_alive(pid):
            raise ServiceError(f"process {pid} exited before {host}:{port} answered")
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise ServiceError(f"{host}:{port} did not answer within {timeout:.0f} s")


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on at ``host`` right now, for a service started next."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_in_use(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=0.5).close()
    except OSError:
        return False
    return True
