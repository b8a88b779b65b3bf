"""Helpers every test layer uses: free loopback ports, settings for a data directory, and the real
command line run as a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from kouiki.config import Settings

REPO = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("KOUIKI_TEST_OUTPUT", REPO / "test-output"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings_for(data_dir: Path, bootstrap: str, **overrides: object) -> Settings:
    """Settings for one test's data directory; the rest as defaults, or ``overrides``."""
    return Settings(bootstrap_servers=bootstrap, data_dir=data_dir, **overrides)  # type: ignore[arg-type]


def run_kouiki(settings: Settings, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the real command line, as a secretariat or operator would."""
    env = dict(os.environ, **settings.environment())
    proc = subprocess.run(
        [sys.executable, "-m", "kouiki.cli", *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"kouiki {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc
