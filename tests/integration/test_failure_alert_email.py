"""A task that really fails in Airflow (`airflow dags test` in a subprocess, SQLite metadata database,
a DAG made with the shared Kouiki DAG arguments) raises the Kouiki alert: the record in
run/alerts.jsonl, and the e-mail through the SMTP provider's notifier to a real SMTP server (aiosmtpd
on a free loopback port). No recipients: no e-mail. A mail server that is down: the callback still
does not fail and the record is still written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from kouiki.config import Settings
from kouiki.orchestration import alerts
from tests.support.platform import free_port
from tests.support.smtp import Sink, smtp_server

pytestmark = pytest.mark.integration

DAG_ID = "kouiki_alert_probe"
TASK_ID = "explode"
# Markup and Jinja in the error: the e-mail shows them as text, it neither renders nor executes them.
ERROR = "lake partition 17 is corrupt <b>{{ 7 * 7 }}</b>"
BASE_URL = "http://airflow.kouiki.example:8080"
RECIPIENTS = ["ops@example.jp", "oncall@example.jp"]

PROBE_DAG = f'''
from airflow.sdk import dag, task

from kouiki.orchestration.defaults import dag_arguments

arguments = dag_arguments("test")
arguments["default_args"]["retries"] = 0  # fail at once: the alert is for the last try


@dag(dag_id="{DAG_ID}", schedule=None, doc_md="Fails on purpose.", **arguments)
def {DAG_ID}() -> None:
    @task(task_id="{TASK_ID}")
    def explode() -> None:
        raise ValueError({ERROR!r})

    explode()


{DAG_ID}()
'''


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch Airflow home with the probe DAG and a migrated SQLite database, for the module."""
    home = tmp_path_factory.mktemp("airflow-alerts")
    (home / "dags").mkdir()
    (home / "dags" / f"{DAG_ID}.py").write_text(PROBE_DAG, encoding="utf-8")
    airflow(home, {}, "db", "migrate")
    return home


def airflow(home: Path, kouiki_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "KOUIKI_"))}
    env.update(kouiki_env)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__API__BASE_URL": BASE_URL,
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "airflow", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def fail_the_task(home: Path, settings: Settings) -> str:
    """Run the probe DAG once; its task fails. Returns the output."""
    proc = airflow(home, settings.environment(), "dags", "test", DAG_ID)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out  # the run failed, as it should
    assert f"ValueError: {ERROR}" in out, out[-3000:]
    assert "Failed to run task callback" not in out, out[-3000:]  # the callback never raises
    return out


def the_record(settings: Settings) -> dict[str, Any]:
    lines = (settings.run_dir / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    record: dict[str, Any] = json.loads(lines[0])
    assert (record["dag_id"], record["task_id"], record["message"]) == (DAG_ID, TASK_ID, ERROR)
    return record


def settings_for(tmp_path: Path, smtp_port: int, alert_emails: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_from="kouiki@example.jp",
        alert_emails=alert_emails,
    )


def test_a_failed_task_is_e_mailed_in_japanese_and_english_and_recorded(airflow_home: Path, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, free_port(), " , ".join(RECIPIENTS))
    with smtp_server(settings.smtp_port, Sink()) as sink:
        out = fail_the_task(airflow_home, settings)
    record = the_record(settings)

    assert len(sink.received) == 1, out[-3000:]
    [(to, mail)] = sink.received
    assert sorted(to) == sorted(RECIPIENTS)
    assert mail["From"] == "kouiki@example.jp"
    assert mail["Auto-Submitted"] == "auto-generated"
    subject = str(mail["Subject"])
    assert "タスク失敗" in subject and "Task failed" in subject
    assert f"{DAG_ID}.{TASK_ID}" in subject
    body = mail.get_body(("html",))
    assert body is not None
    text = body.get_content()
    for ja, en in (("タスク", "Task"), ("実行", "Run"), ("試行", "Try"), ("エラー", "Error"), ("ログ", "Log")):
        assert f"{ja} / {en}" in text
    assert DAG_ID in text and TASK_ID in text
    assert record["run_id"] in text
    assert "ValueError: lake partition 17 is corrupt &lt;b&gt;{{ 7 * 7 }}&lt;/b&gt;" in text  # not "49"
    assert record["log_url"].startswith(f"{BASE_URL}/dags/{DAG_ID}/runs/")
    assert f'href="{record["log_url"]}"' in text
    assert "KOUIKI ALERT e-mailed to ops@example.jp, oncall@example.jp" in out


def test_without_alert_recipients_nothing_is_mailed(airflow_home: Path, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, free_port(), "")
    with smtp_server(settings.smtp_port, Sink()) as sink:
        out = fail_the_task(airflow_home, settings)
    the_record(settings)
    assert sink.received == []
    assert "e-mailed" not in out


def test_a_mail_server_that_is_down_costs_neither_the_task_run_nor_the_record(
    airflow_home: Path, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, free_port(), RECIPIENTS[0])  # nothing listens there
    out = fail_the_task(airflow_home, settings)
    the_record(settings)
    assert "KOUIKI ALERT could not be e-mailed to ops@example.jp" in out
    assert "ConnectionRefusedError" in out


class FailedTask:
    """What the callback reads of a task instance."""

    dag_id, task_id, run_id, try_number = DAG_ID, TASK_ID, "manual__2027-01-25T09:00:00+09:00", 3
    log_url = f"{BASE_URL}/dags/{DAG_ID}/runs/manual/tasks/{TASK_ID}?try_number=3"


def test_the_smtp_login_is_used_when_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In this process, outside a task: the notifier finds the connection all the same."""
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))  # if Airflow is first imported here
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret")

    settings = Settings(
        data_dir=tmp_path / "data",
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_user="kouiki",
        smtp_password="s3cret",
        smtp_from="kouiki@example.jp",
        alert_emails=RECIPIENTS[0],
    )
    context = {"ti": FailedTask(), "exception": RuntimeError("dbt build failed")}
    with smtp_server(settings.smtp_port, Sink(), authenticator=authenticator, auth_require_tls=False) as sink:
        alerts.on_failure(context, lambda: settings)
    assert logins == [(b"kouiki", b"s3cret")]
    [(to, mail)] = sink.received
    assert to == [RECIPIENTS[0]]
    assert "RuntimeError: dbt build failed" in str(mail.get_body(("html",)).get_content())  # type: ignore[union-attr]
    assert the_record_of(settings)["try_number"] == 3


def the_record_of(settings: Settings) -> dict[str, Any]:
    [line] = (settings.run_dir / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    record: dict[str, Any] = json.loads(line)
    return record


def test_the_connection_is_defined_only_while_the_alert_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    name = "AIRFLOW_CONN_KOUIKI_SMTP"
    settings = Settings(smtp_host="mail.example.jp", smtp_port=2525, smtp_starttls=True, smtp_password="pw")
    monkeypatch.setenv(name, "what was there")
    with alerts.smtp_connection_defined(settings):
        conn = json.loads(os.environ[name])
        assert (conn["host"], conn["port"], conn["password"]) == ("mail.example.jp", 2525, "pw")
        assert conn["extra"]["disable_ssl"] is True and conn["extra"]["disable_tls"] is False
    assert os.environ[name] == "what was there"
    monkeypatch.delenv(name)
    with alerts.smtp_connection_defined(settings):
        assert name in os.environ
    assert name not in os.environ
