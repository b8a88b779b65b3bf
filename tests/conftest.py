"""Shared fixtures: isolated data directories, free loopback ports and a real local broker."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kouiki import broker
from kouiki.config import Settings

REPO = Path(__file__).resolve().parents[1]
OUTPUT = Path(os.environ.get("KOUIKI_TEST_OUTPUT", REPO / "test-output"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings_for(data_dir: Path, bootstrap: str) -> Settings:
    return Settings(bootstrap_servers=bootstrap, data_dir=data_dir, session_timeout_ms=2000,
                    max_message_bytes=1024 * 1024)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture(scope="session")
def broker_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """One real broker for the session (memory storage, so every session starts empty)."""
    settings = settings_for(tmp_path_factory.mktemp("broker"), f"127.0.0.1:{free_port()}")
    broker.start(settings)
    yield settings
    broker.stop(settings)


@pytest.fixture
def settings(broker_settings: Settings, data_dir: Path) -> Settings:
    """A fresh data directory on the shared broker."""
    return settings_for(data_dir, broker_settings.bootstrap_servers)


def run_kouiki(settings: Settings, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the real command line, as a secretariat or operator would."""
    env = dict(os.environ, KOUIKI_DATA_DIR=str(settings.data_dir),
               KOUIKI_BOOTSTRAP_SERVERS=settings.bootstrap_servers)
    proc = subprocess.run([sys.executable, "-m", "kouiki.cli", *args], env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"kouiki {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc
