"""Runtime settings, read from the environment with working local defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REGISTRY_TOPIC = "kouiki.registry.v1"
REPORTS_TOPIC = "kouiki.reports.v1"
DEADLETTER_TOPIC = "kouiki.deadletter.v1"
INGEST_TOPICS = (REGISTRY_TOPIC, REPORTS_TOPIC)
TOPIC_PARTITIONS = {REGISTRY_TOPIC: 3, REPORTS_TOPIC: 3, DEADLETTER_TOPIC: 1}

# The repository checkout this package was installed from (editable install).
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    bootstrap_servers: str
    data_dir: Path
    session_timeout_ms: int
    max_message_bytes: int

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("KOUIKI_DATA_DIR", "./data")).resolve()
        return cls(
            bootstrap_servers=os.environ.get("KOUIKI_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            data_dir=data_dir,
            session_timeout_ms=int(os.environ.get("KOUIKI_SESSION_TIMEOUT_MS", "6000")),
            max_message_bytes=int(os.environ.get("KOUIKI_MAX_MESSAGE_BYTES", str(1024 * 1024))),
        )

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def raw_dir(self) -> Path:
        return self.lake_dir / "raw"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def serving_path(self) -> Path:
        return self.data_dir / "serving.duckdb"

    @property
    def run_dir(self) -> Path:
        """Pid files, logs and generated secrets of the local services."""
        return self.data_dir / "run"

    @property
    def host_port(self) -> tuple[str, int]:
        first = self.bootstrap_servers.split(",")[0]
        host, _, port = first.rpartition(":")
        return host or "127.0.0.1", int(port)


def venv_bin(venv: str, name: str) -> Path:
    """Path of an executable in one of the repository's virtual environments (.venv-dbt, ...)."""
    override = os.environ.get(f"KOUIKI_{venv.strip('.').replace('-', '_').upper()}_BIN")
    base = Path(override) if override else REPO_ROOT / venv / "bin"
    return base / name
