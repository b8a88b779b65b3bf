"""The warm dbt worker (infra/dbt/worker.py, kouiki.services.dbt_worker) against a real dbt and
DuckDB, over a small lake and a copy of the dbt project (so a test can change the project).

What it must keep: the same builds as a new dbt process (tests/integration/test_incremental_build.py
compares the marts of a lake built in the worker with a full rebuild in a new process), the
warehouse file closed between commands, a changed project parsed again, a failing command
reported to its caller with the worker still serving, and a fall-back to a new dbt process when it
is stopped or killed.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from kouiki.config import Settings, default_project_root
from kouiki.sample.generator import generate
from kouiki.sample.national import write_to_lake
from kouiki.services import dbt_worker
from kouiki.services.processes import read_pid
from kouiki.warehouse.dbt import build, dbt, worker_socket
from kouiki.warehouse.publish import publish
from tests.support.platform import settings_for

pytestmark = pytest.mark.integration
CHECKOUT = default_project_root()


def copy_of_the_project(root: Path) -> Path:
    shutil.copytree(
        CHECKOUT / "dbt_project", root / "dbt_project", ignore=shutil.ignore_patterns("target", "logs", ".user.yml")
    )
    shutil.copytree(CHECKOUT / "infra" / "dbt", root / "infra" / "dbt")
    return root


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    base = tmp_path_factory.mktemp("worker")
    settings = settings_for(base / "data", "127.0.0.1:9")
    settings = dataclasses.replace(
        settings, project_dir=copy_of_the_project(base / "checkout"), venv_dbt_bin=CHECKOUT / ".venv-dbt" / "bin"
    )
    sample = generate(seed=11, quarters=2)
    write_to_lake(settings.raw_dir, [*sample.registry, *sample.reports], epoch="test")
    line = dbt_worker.start(settings, wait=180)
    assert "listening" in line, line
    try:
        full = build(settings)  # no warehouse yet: the full rebuild, in the worker
        assert full.full and full.warm, full
        yield settings
    finally:
        dbt_worker.stop(settings)


def test_builds_run_in_the_worker_and_leave_the_warehouse_closed(warm: Settings) -> None:
    for _ in range(2):  # the second command over the same parsed project must compile as the first
        incremental = build(warm)
        assert not incremental.full and incremental.warm and "ERROR=0" in incremental.summary, incremental
    assert not Path(f"{warm.warehouse_path}.wal").exists()
    with duckdb.connect(str(warm.warehouse_path)) as con:  # a write lock another process could not take
        assert con.execute("select count(*) from marts.fct_investment").fetchone() != (0,)
    assert publish(warm).exists()


def test_a_changed_project_is_parsed_again(warm: Settings) -> None:
    model = warm.project_root / "dbt_project" / "models" / "intermediate" / "zz_worker_probe.sql"
    model.write_text("select 42 as answer\n", encoding="utf-8")
    try:
        run = dbt(warm, "run", "--select", "zz_worker_probe")
        assert run.warm and run.returncode == 0, run.stdout
        with duckdb.connect(str(warm.warehouse_path), read_only=True) as con:
            assert con.execute("select answer from intermediate.zz_worker_probe").fetchall() == [(42,)]
    finally:
        model.unlink()


def test_a_failing_command_is_reported_and_the_worker_keeps_serving(warm: Settings) -> None:
    model = warm.project_root / "dbt_project" / "models" / "intermediate" / "zz_worker_broken.sql"
    model.write_text("select * from no_such_table_anywhere\n", encoding="utf-8")
    try:
        run = dbt(warm, "run", "--select", "zz_worker_broken")
        assert run.warm and run.returncode == 1
        assert "zz_worker_broken" in run.stdout and "no_such_table_anywhere" in run.stdout
    finally:
        model.unlink()
    after = dbt(warm, "run", "--select", "int_consortia_latest")
    assert after.warm and after.returncode == 0, after.stdout


def test_without_a_worker_dbt_runs_as_a_new_process(warm: Settings) -> None:
    assert dbt_worker.stop(warm)
    assert not worker_socket(warm).exists()
    run = dbt(warm, "run", "--select", "int_consortia_latest")
    assert not run.warm and run.returncode == 0, run.stdout
    # killed, it leaves its socket behind: nobody answers there, so dbt runs as a new process
    dbt_worker.start(warm, wait=180)
    pid = read_pid(warm.run_dir, dbt_worker.SERVICE)
    assert pid is not None and worker_socket(warm).exists()
    os.kill(pid, signal.SIGKILL)
    while read_pid(warm.run_dir, dbt_worker.SERVICE) is not None:
        time.sleep(0.1)
    assert worker_socket(warm).exists()
    run = dbt(warm, "run", "--select", "int_consortia_latest")
    assert not run.warm and run.returncode == 0, run.stdout
    assert "listening" in dbt_worker.start(warm, wait=180)  # for whatever runs next
