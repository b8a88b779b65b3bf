"""DAG integrity and policy: every DAG imports, declares its owner, tags and retries, and nothing is
looked up in Variables or Connections while the files are parsed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
EXPECTED = {"kouiki_ingest", "kouiki_transform", "kouiki_publish", "kouiki_quality", "kouiki_notices"}


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with pytest.MonkeyPatch.context() as mp:  # environment and patches restored after the module
        mp.setenv("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow-home")))
        mp.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
        mp.delenv("KOUIKI_INGEST_SCHEDULE", raising=False)  # the committed default is under test
        from airflow.dag_processing.dagbag import DagBag
        from airflow.sdk import BaseHook, Variable

        def forbidden(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("Variable/Connection lookup at DAG parse time")

        mp.setattr(Variable, "get", forbidden)
        mp.setattr(BaseHook, "get_connection", forbidden)
        yield DagBag(dag_folder=str(DAGS))


def test_every_dag_file_imports(dagbag: Any) -> None:
    assert dagbag.import_errors == {}


def test_one_dag_per_file_named_after_it(dagbag: Any) -> None:
    assert set(dagbag.dag_ids) == EXPECTED
    for dag_id in dagbag.dag_ids:
        assert Path(dagbag.dags[dag_id].fileloc).stem == dag_id


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_policy(dagbag: Any, dag_id: str) -> None:
    dag = dagbag.dags[dag_id]
    assert dag.tags and "kouiki" in dag.tags
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert dag.doc_md and dag.timezone.name == "Asia/Tokyo"
    for task in dag.tasks:
        assert task.owner == "kouiki"
        assert task.retries >= 2
        assert task.on_failure_callback, f"{dag_id}.{task.task_id} does not alert on failure"


def test_no_cycles(dagbag: Any) -> None:
    from graphlib import CycleError, TopologicalSorter

    for dag_id, dag in dagbag.dags.items():
        graph = {t.task_id: set(t.upstream_task_ids) for t in dag.tasks}
        try:
            list(TopologicalSorter(graph).static_order())
        except CycleError as exc:  # DagBag rejects most cycles; this names the DAG if one slips through
            raise AssertionError(f"{dag_id} has a cycle: {exc}") from exc


def test_dag_files_import_nothing_heavy_at_parse_time(tmp_path: Path) -> None:
    """The dag-processor re-imports every file: warehouse, lander and DuckDB stay inside the tasks."""
    import os
    import subprocess
    import sys

    heavy = [
        "duckdb",
        "pyarrow",
        "kafka",
        "kouiki.landing",
        "kouiki.lake",
        "kouiki.contract",  # the topic names (kouiki.messaging.topics) are imported, nothing more
        "kouiki.warehouse",
        "kouiki.services",
        "kouiki.notices",
    ]
    code = (
        "import runpy, sys\n"
        f"for f in {sorted(str(p) for p in DAGS.glob('*.py'))!r}: runpy.run_path(f)\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_assets_chain_the_three_stages(dagbag: Any) -> None:
    from kouiki.orchestration.assets import DUCKDB_POOL, RAW_LAKE, SERVING_MARTS, WAREHOUSE_MARTS

    ingest, transform, publish = (dagbag.dags[d] for d in ("kouiki_ingest", "kouiki_transform", "kouiki_publish"))
    assert [o.uri for o in ingest.get_task("land_topics").outlets] == [RAW_LAKE.uri]
    assert [o.uri for o in transform.get_task("dbt_build").outlets] == [WAREHOUSE_MARTS.uri]
    assert transform.task_ids == ["dbt_build"]  # nothing else on the way to the dashboards
    assert dagbag.dags["kouiki_quality"].get_task("dbt_source_freshness").pool == DUCKDB_POOL
    assert publish.get_task("refresh_superset_cache").upstream_task_ids == {"publish_serving_file"}
    assert publish.get_task("write_open_data_snapshot").upstream_task_ids == {"publish_serving_file"}
    assert [o.uri for o in publish.get_task("publish_serving_file").outlets] == [SERVING_MARTS.uri]
    assert transform.get_task("dbt_build").pool == publish.get_task("publish_serving_file").pool == DUCKDB_POOL
    assert ingest.timetable.timetable.expression == "*/15 * * * *"  # the safety net, slow by default
    assert "kouiki://lake/raw" in str(transform.timetable.asset_condition)
    assert "kouiki://warehouse/marts" in str(publish.timetable.asset_condition)


def test_ingest_starts_when_an_intake_topic_receives_a_message(dagbag: Any) -> None:
    """The intake Asset is watched by the Kafka shared-stream trigger on both intake topics, through
    the connection the platform puts in the environment, or the safety-net cron starts the run."""
    from airflow.providers.apache.kafka.triggers.shared_stream import KafkaSharedStreamTrigger
    from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable

    ingest = dagbag.dags["kouiki_ingest"]
    assert isinstance(ingest.timetable, AssetOrTimeSchedule)
    assert isinstance(ingest.timetable.timetable, CronTriggerTimetable)
    assert ingest.max_active_runs == 1
    asset = ingest.timetable.asset_condition
    assert isinstance(asset, Asset)
    assert asset.uri == "kouiki://topics/intake"
    (watcher,) = asset.watchers
    classpath, kwargs = watcher.trigger.serialize()
    assert classpath == "kouiki.orchestration.intake_watch.IntakeTrigger"
    assert isinstance(watcher.trigger, KafkaSharedStreamTrigger)  # the shared consumer, commits after saving
    assert kwargs["topics"] == ["kouiki.registry.v1", "kouiki.reports.v1"]
    assert kwargs["kafka_config_id"] == "kouiki_intake_trigger"


def test_the_trigger_event_does_not_copy_the_message() -> None:
    """Every event is saved in the metadata database and logged: it must not carry the report."""
    import asyncio
    from collections.abc import AsyncIterator

    from kouiki.orchestration.intake_watch import IntakeTrigger

    report = b'{"project_code": "P-001", "amount_jpy": 123456789}'

    async def stream() -> AsyncIterator[bytes]:
        yield report

    async def events() -> list[Any]:
        trigger = IntakeTrigger(topics=["kouiki.reports.v1"], kafka_config_id="kouiki_intake_trigger")
        return [e async for e in trigger.filter_shared_stream(stream())]

    (event,) = asyncio.run(events())
    assert event.payload == {"message_bytes": len(report)}
    assert "123456789" not in repr(event)


def test_the_trigger_watches_the_topics_the_lander_reads() -> None:
    from kouiki.messaging.topics import INGEST_TOPICS
    from kouiki.orchestration.assets import INTAKE_TOPICS

    (watcher,) = INTAKE_TOPICS.watchers
    assert sorted(watcher.trigger.topics) == sorted(INGEST_TOPICS)


def test_the_trigger_connection_has_its_own_group_and_manual_commits() -> None:
    """The shared-stream trigger refuses auto-commit; its group is nobody else's; earliest, so the
    first message after a fresh start (no committed offset yet) still starts a run."""
    import json

    from kouiki.config import Settings
    from kouiki.orchestration.intake_trigger import connection_variable

    env = connection_variable(Settings(bootstrap_servers="127.0.0.1:19299"))
    conn = json.loads(env["AIRFLOW_CONN_KOUIKI_INTAKE_TRIGGER"])
    assert conn["conn_type"] == "kafka"
    assert conn["extra"]["bootstrap.servers"] == "127.0.0.1:19299"
    assert conn["extra"]["group.id"] == "kouiki-ingest-trigger"
    assert conn["extra"]["enable.auto.commit"] == "false"
    assert conn["extra"]["auto.offset.reset"] == "earliest"
    assert int(conn["extra"]["session.timeout.ms"]) <= 2000


def test_quality_runs_daily_and_writes_no_asset(dagbag: Any) -> None:
    quality = dagbag.dags["kouiki_quality"]
    assert quality.timetable.expression == "0 7 * * *"
    assert all(not t.outlets for t in quality.tasks)  # read-only: it triggers nothing


def test_notices_run_daily_after_quality_and_write_no_asset(dagbag: Any) -> None:
    notices = dagbag.dags["kouiki_notices"]
    assert notices.timetable.expression == "0 8 * * *"
    assert [t.task_id for t in notices.tasks] == ["send_notice_digests"]
    assert all(not t.outlets for t in notices.tasks)


def test_ingest_schedule_comes_from_the_environment(tmp_path: Path) -> None:
    """Read when the file is parsed (env only; Variables at parse time are not allowed)."""
    import os
    import subprocess
    import sys

    code = f"import runpy; ns = runpy.run_path({str(DAGS / 'kouiki_ingest.py')!r}); print(ns['SCHEDULE'])"
    env = {**os.environ, "KOUIKI_INGEST_SCHEDULE": "*/10 * * * *", "AIRFLOW_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.strip().splitlines()[-1] == "*/10 * * * *"


def test_the_local_platform_gives_airflow_the_connection_and_a_triggerer(tmp_path: Path) -> None:
    """Without the triggerer nothing watches the topics; its log server would listen on every interface."""
    import json

    from kouiki.config import Settings
    from kouiki.services import airflow

    settings = Settings(data_dir=tmp_path / "data", bootstrap_servers="127.0.0.1:19201")
    conn = json.loads(airflow.environment(settings)["AIRFLOW_CONN_KOUIKI_INTAKE_TRIGGER"])
    assert conn["extra"]["bootstrap.servers"] == "127.0.0.1:19201"
    assert airflow.COMPONENTS[airflow.TRIGGERER] == ["triggerer", "--skip-serve-logs"]
    assert "triggerer" in airflow.HEALTH_CHECKED
