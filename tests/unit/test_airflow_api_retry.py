"""The Airflow client retries a request the API server failed with a 500, as it does for
"database is locked" on the SQLite metadata default while the triggerer writes a burst of Asset
events. That lock cannot be provoked on demand, so a stdlib HTTP server on loopback stands in for
the API server and fails the first two triggers."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from kouiki.config import Settings
from kouiki.services.airflow_api import AirflowClient


class FlakyApi(BaseHTTPRequestHandler):
    failures_left = 2
    triggers = 0

    def do_POST(self) -> None:  # noqa: N802 - the stdlib handler's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/auth/token":
            return self._answer(201, {"access_token": "t"})
        type(self).triggers += 1
        if type(self).failures_left:
            type(self).failures_left -= 1
            return self._answer(500, {"detail": "database is locked"})
        return self._answer(200, {"dag_run_id": "manual__1"})

    def _answer(self, status: int, body: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api() -> Iterator[int]:
    server = HTTPServer(("127.0.0.1", 0), FlakyApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()


def test_a_trigger_failed_by_a_locked_database_is_retried(api: int, tmp_path: Path) -> None:
    settings = dataclasses.replace(Settings(bootstrap_servers="127.0.0.1:9", data_dir=tmp_path), airflow_port=api)
    assert AirflowClient(settings).trigger("kouiki_ingest") == "manual__1"
    assert FlakyApi.triggers == 3  # two 500s, then the run
