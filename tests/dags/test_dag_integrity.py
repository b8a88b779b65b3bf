"""DAG integrity and policy: every DAG imports, declares its owner, tags and retries, and nothing is
looked up in Variables or Connections while the files are parsed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
EXPECTED = {"kouiki_ingest", "kouiki_transform", "kouiki_publish"}


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory: pytest.TempPathFactory) -> Any:
    import os

    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow-home")))
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk import BaseHook, Variable

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("Variable/Connection lookup at DAG parse time")

    mp = pytest.MonkeyPatch()
    mp.setattr(Variable, "get", forbidden)
    mp.setattr(BaseHook, "get_connection", forbidden)
    try:
        yield DagBag(dag_folder=str(DAGS))
    finally:
        mp.undo()


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


def test_assets_chain_the_three_stages(dagbag: Any) -> None:
    from kouiki.assets import DUCKDB_POOL, RAW_LAKE, SERVING_MARTS, WAREHOUSE_MARTS

    ingest, transform, publish = (dagbag.dags[d] for d in ("kouiki_ingest", "kouiki_transform", "kouiki_publish"))
    assert [o.uri for o in ingest.get_task("land_topics").outlets] == [RAW_LAKE.uri]
    assert [o.uri for o in transform.get_task("dbt_build").outlets] == [WAREHOUSE_MARTS.uri]
    assert [o.uri for o in publish.get_task("publish_serving_file").outlets] == [SERVING_MARTS.uri]
    assert transform.get_task("dbt_build").pool == publish.get_task("publish_serving_file").pool == DUCKDB_POOL
    assert ingest.timetable.expression == "*/5 * * * *"
    assert "kouiki://lake/raw" in str(transform.timetable.asset_condition)
    assert "kouiki://warehouse/marts" in str(publish.timetable.asset_condition)
