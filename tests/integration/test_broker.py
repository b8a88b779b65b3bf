"""`kouiki broker start|stop|status` against the real Tansu binary."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kouiki.config import Settings
from kouiki.messaging import clients
from kouiki.messaging.topics import TOPIC_PARTITIONS
from tests.support.platform import free_port, run_kouiki, settings_for

pytestmark = pytest.mark.integration


def test_start_creates_topics_binds_loopback_and_stops(data_dir: Path) -> None:
    settings = settings_for(data_dir, f"127.0.0.1:{free_port()}")
    started = run_kouiki(settings, "broker", "start", check=True)
    try:
        assert "running" in started.stdout
        assert "answering" in run_kouiki(settings, "broker", "status", check=True).stdout
        admin = clients.admin(settings)
        try:
            topics = set(admin.list_topics())
        finally:
            admin.close()
        assert set(TOPIC_PARTITIONS) <= topics
        port = settings.host_port[1]
        listening = subprocess.run(["ss", "-Htln", f"sport = :{port}"], capture_output=True, text=True).stdout
        local_addresses = [line.split()[3] for line in listening.splitlines()]
        assert local_addresses == [f"127.0.0.1:{port}"]
        assert run_kouiki(settings, "broker", "start", check=True).returncode == 0  # idempotent
    finally:
        stopped = run_kouiki(settings, "broker", "stop", check=True)
    assert "stopped" in stopped.stdout
    assert "stopped" in run_kouiki(settings, "broker", "status").stdout


def test_refuses_a_port_that_another_process_holds(shared_broker: Settings) -> None:
    settings = shared_broker  # the session's broker holds the port
    proc = run_kouiki(settings, "broker", "start")
    assert proc.returncode == 2
    assert "already in use" in proc.stderr
