"""The whole local platform in three verbs: up, down, demo (sample data end to end)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from kouiki.config import Settings
from kouiki.contract.check import kind_of
from kouiki.contract.signature import signed_headers
from kouiki.identity import users
from kouiki.identity.keys import SigningKey
from kouiki.identity.principal import SECRETARIAT
from kouiki.identity.signing_keys import ensure_operator_key
from kouiki.intake.submit import submit
from kouiki.messaging import clients
from kouiki.messaging.topics import key_for, topic_for
from kouiki.sample.generator import generate, refused_example
from kouiki.services import airflow, broker, dbt_worker, portal
from kouiki.services.airflow_api import AirflowClient
from kouiki.services.processes import read_pid
from kouiki.services.superset import deploy, process


def start_broker(settings: Settings) -> int:
    """Start the broker if it is not running. Airflow's triggerer, if it runs, is stopped first and
    started again afterwards: a consumer that rejoins its group on a new broker (empty: it keeps
    messages in memory) stalls without an error, and so does one that reconnects by itself."""
    if read_pid(settings.run_dir, broker.SERVICE) is not None:
        return broker.start(settings)
    triggerer_stopped = airflow.stop_triggerer(settings)
    try:
        return broker.start(settings)
    finally:
        if triggerer_stopped:
            airflow.start_triggerer(settings)


def up(settings: Settings, with_superset: bool = True) -> Iterator[str]:
    started = time.monotonic()
    ensure_operator_key(settings)  # the platform's key: signs the sample data
    pid = start_broker(settings)
    yield f"broker     running (pid {pid}) on {settings.bootstrap_servers}"
    portal.start(settings)
    yield f"portal     running on {portal.base_url(settings)} (API docs: /docs)"
    yield f"dbt        {dbt_worker.start(settings)}"
    yield f"airflow    running on {airflow.start(settings)}"
    if with_superset:
        yield from _superset(settings)
    yield f"platform up in {time.monotonic() - started:.0f} s"


def _superset(settings: Settings) -> Iterator[str]:
    deploy.bootstrap(settings)
    yield f"superset   running on {deploy.start(settings)}"


def down(settings: Settings) -> Iterator[str]:
    process.stop(settings)
    yield "superset   stopped"
    airflow.stop(settings)
    yield "airflow    stopped"
    dbt_worker.stop(settings)
    yield "dbt        stopped"
    portal.stop(settings)
    yield "portal     stopped"
    broker.stop(settings)
    yield "broker     stopped"


DEMO_SECRETARIAT = "demo-secretariat"


def send_unchecked(settings: Settings, doc: dict[str, Any], key: SigningKey) -> None:
    """Produce one document signed with ``key`` as ``kouiki submit`` does, without submit's own checks
    (which would refuse a document the contract refuses): the lander judges it alone."""
    value = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    producer = clients.producer(settings)
    try:
        sent = producer.send(
            topic_for(kind_of(doc)),
            key=key_for(doc).encode(),
            value=value,
            headers=signed_headers(value, key.key_id, key.secret),
        )
        producer.flush()
        sent.get()
    finally:
        producer.close()


def demo_secretariat(settings: Settings, consortium: str) -> str:
    """A portal login for one sample consortium's secretariat: created on the first demo, given a
    fresh password on every later one (passwords are shown once and never stored in clear)."""
    if any(u.username == DEMO_SECRETARIAT and u.active for u in users.list_users(settings)):
        return users.reset_password(settings, DEMO_SECRETARIAT)
    return users.add_user(settings, DEMO_SECRETARIAT, SECRETARIAT, [consortium]).password


def demo(settings: Settings, seed: int = 42) -> Iterator[str]:
    """Start everything, submit sample reports, let Airflow land, build and publish them, and
    point at the dashboard."""
    started = time.monotonic()
    yield from up(settings, with_superset=False)  # Superset starts once there is data to show
    sample = generate(seed=seed)
    files = sample.write(settings.data_dir / "sample")
    submitted = time.time() - 1  # the intake trigger may land them before the manual trigger below
    key = ensure_operator_key(settings)  # the platform's own key signs the sample data
    outcome = submit(files, settings, key_id=key.key_id, secret=key.secret)
    if outcome.problems:
        raise RuntimeError(f"sample data failed validation: {outcome.problems[0]}")
    yield f"submitted  {len(outcome.receipts)} sample events from {settings.data_dir / 'sample'}"
    refused = refused_example(sample)
    send_unchecked(settings, refused, key)
    yield (
        f"submitted  1 more that the lander will dead-letter ({refused['project_code']} {refused['period']}: "
        f"KPI {refused['kpis'][0]['kpi_code']} is not registered), for the データ品質 dashboard"
    )
    client = AirflowClient(settings)
    client.wait_for_dags()
    client.trigger("kouiki_ingest")
    yield "airflow    kouiki_ingest triggered; waiting for kouiki_transform and kouiki_publish ..."
    client.wait_for_success("kouiki_publish", after=submitted)
    yield f"published  {settings.serving_path}"
    # before Superset starts, so its account is synced too: the same login opens the dashboards,
    # showing that consortium's rows only
    consortium = next(d["consortium_code"] for d in sample.registry if d.get("entity") == "consortium")
    secretariat_password = demo_secretariat(settings, consortium)
    yield from _superset(settings)
    user, password = process.credentials(settings)
    yield ""
    yield f"Dashboard: {process.dashboard_url(settings)}"
    yield f"Login:     {user} / {password}   (Airflow: {airflow.base_url(settings)} with the same login)"
    yield f"Portal:    {portal.base_url(settings)}/   (secretariats: reports in Excel, submission history)"
    yield f"           {DEMO_SECRETARIAT} / {secretariat_password}   (secretariat of {consortium}; dashboards too)"
    yield f"           REST API: {portal.base_url(settings)}/docs; more people: kouiki users add NAME --consortium CODE"
    yield f"Stop with: make down   (demo took {time.monotonic() - started:.0f} s)"
