"""The few Airflow REST API v2 calls the platform needs (as the local admin)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from kouiki.config import Settings
from kouiki.services.airflow import ADMIN_USER, DAG_IDS, admin_password, base_url
from kouiki.services.processes import ServiceError


class AirflowClient:
    """The few REST API v2 calls the platform needs."""

    def __init__(self, settings: Settings) -> None:
        self.url = base_url(settings)
        self.session = requests.Session()
        # On the SQLite metadata default a burst of intake messages has the triggerer writing one
        # Asset event each, and the API server can then fail a request with "database is locked"
        # (HTTP 500 after SQLite's 5 s busy wait). Such a request is retried; a trigger retried after
        # a failure that did commit only adds a run, which lands nothing twice.
        retry = Retry(
            total=6, backoff_factor=0.5, status_forcelist=(500, 503), allowed_methods=None, raise_on_status=False
        )
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        token = requests.post(
            f"{self.url}/auth/token", timeout=10, json={"username": ADMIN_USER, "password": admin_password(settings)}
        )
        token.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def _get(self, path: str, **params: Any) -> Any:
        response = self.session.get(f"{self.url}/api/v2{path}", params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def wait_for_dags(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            known = {d["dag_id"] for d in self._get("/dags", limit=100)["dags"]}
            if set(DAG_IDS) <= known:
                return
            time.sleep(1)
        raise ServiceError(f"DAGs {DAG_IDS} were not parsed within {timeout:.0f} s")

    def trigger(self, dag_id: str) -> str:
        response = self.session.post(
            f"{self.url}/api/v2/dags/{dag_id}/dagRuns", timeout=10, json={"logical_date": None, "conf": {}}
        )
        response.raise_for_status()
        return str(response.json()["dag_run_id"])

    def runs(self, dag_id: str, **params: Any) -> list[dict[str, Any]]:
        return list(self._get(f"/dags/{dag_id}/dagRuns", order_by="-run_after", limit=20, **params)["dag_runs"])

    def upstream_runs(self, dag_id: str, run_id: str) -> set[tuple[str, str]]:
        """(dag id, run id) of the runs whose Asset events started this run."""
        events = self._get(f"/dags/{dag_id}/dagRuns/{run_id}/upstreamAssetEvents")["asset_events"]
        return {(e["source_dag_id"], e["source_run_id"]) for e in events if e.get("source_run_id")}

    def wait_for_success(self, dag_id: str, after: float, timeout: float = 300.0) -> dict[str, Any]:
        """The first successful run of ``dag_id`` queued after the epoch time ``after``; fail fast
        when any Kouiki DAG run fails."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for run in self.runs(dag_id, state="success"):
                if _epoch(run["queued_at"]) >= after:
                    return run
            for other in DAG_IDS:
                failed = [r for r in self.runs(other, state="failed") if _epoch(r["queued_at"]) >= after]
                if failed:
                    raise ServiceError(
                        f"{other} run {failed[0]['dag_run_id']} failed; see the task log under {self.url}"
                    )
            time.sleep(2)
        raise ServiceError(f"no successful {dag_id} run within {timeout:.0f} s")


def _epoch(timestamp: str | None) -> float:
    return datetime.fromisoformat(timestamp).timestamp() if timestamp else 0.0
