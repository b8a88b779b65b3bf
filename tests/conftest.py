"""Shared fixtures: isolated data directories and a real local broker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kouiki.config import Settings
from kouiki.services import broker
from tests.support.platform import free_port, settings_for


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
