"""``kouiki build``: dbt over the lake into warehouse.duckdb (see ``publish`` for the serving file).

Two ways, the same marts (tests/integration/test_incremental_build.py builds one lake both ways):

* incremental (the default, and every kouiki_transform run): ``dbt run`` of the models downstream
  of the topics with new files, views excepted (``new_files.incremental_selection``). The base
  models read only lake files not loaded yet, and the models keyed by project redo only the
  projects those files name (``int_projects_changed``); the rest are small tables rebuilt whole.
  Seeds, the models built from seeds only and the views change only with the dbt project, so they
  are left as they are. No data tests: at national scale they cost more than the build itself
  (every dbt node costs a tenth of a second or more even on a few rows), and the full rebuild runs
  them all.
* full (``kouiki build --full-refresh``; also when the warehouse file does not exist yet, and when
  the last full rebuild is older than ``KOUIKI_FULL_REBUILD_HOURS``, so the tests still run every
  day): ``dbt build --full-refresh`` — seeds, every model from the whole lake, every data and unit
  test. Needed after a change to the dbt project or its seeds, which an incremental run does not
  redo; a warehouse that never had a full rebuild recorded (one from before incremental builds)
  gets one.

dbt is the warehouse file's only writer. Callers serialise build and publish (the Airflow DAGs
share a one-slot pool; the CLI runs them one after the other).
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from kouiki.config import Settings
from kouiki.warehouse import new_files


class BuildError(RuntimeError):
    """dbt failed, or there is nothing to publish."""


def project_dir(settings: Settings) -> Path:
    return settings.project_root / "dbt_project"


@dataclass(frozen=True)
class BuildResult:
    seconds: float
    summary: str  # dbt's closing "Done. PASS=… WARN=… ERROR=…" line
    full: bool  # the full rebuild, not the incremental run


def dbt_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(settings.environment())
    env.update(
        {
            "DUCKDB_PATH": str(settings.warehouse_path),
            "DBT_PROFILES_DIR": str(project_dir(settings)),
            "DBT_LOG_PATH": str(settings.data_dir / "dbt" / "logs"),
            "DBT_TARGET_PATH": str(settings.data_dir / "dbt" / "target"),
            "DO_NOT_TRACK": "1",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        }
    )
    return env


def dbt(settings: Settings, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    """Run a dbt command from the dbt virtual environment against this data directory."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    folder = project_dir(settings)
    command = [
        str(settings.venv_executable(".venv-dbt", "dbt")),
        *args,
        "--project-dir",
        str(folder),
        "--no-use-colors",
    ]
    return subprocess.run(
        command, env=dbt_env(settings), cwd=folder, capture_output=True, text=True, timeout=timeout, check=False
    )


def build(settings: Settings, select: str | None = None, full_refresh: bool = False) -> BuildResult:
    """The incremental ``dbt run``, or with ``full_refresh`` (or no warehouse yet) the full
    ``dbt build --full-refresh``; ``select`` narrows either. BuildError when dbt fails."""
    started = time.monotonic()
    full = full_refresh or full_rebuild_due(settings)
    args = ["build", "--full-refresh"] if full else ["run"]
    if select:
        args += ["--select", select]
    elif not full:
        args += new_files.incremental_selection(settings)
    proc = dbt(settings, *args)
    if proc.returncode != 0:
        failed = f"dbt {args[0]} に失敗しました / failed (exit {proc.returncode})"
        raise BuildError(f"{failed}:\n{_tail(proc.stdout + proc.stderr)}")
    if full and not select:
        _full_rebuild_marker(settings).touch()
    done = [line for line in proc.stdout.splitlines() if "Done. PASS=" in line]
    return BuildResult(time.monotonic() - started, done[-1].strip() if done else "", full)


def full_rebuild_due(settings: Settings) -> bool:
    """No warehouse, no full rebuild recorded, or the last one older than full_rebuild_hours."""
    marker = _full_rebuild_marker(settings)
    if not settings.warehouse_path.exists() or not marker.exists():
        return True
    hours = settings.full_rebuild_hours
    return hours > 0 and time.time() - marker.stat().st_mtime > hours * 3600


def _full_rebuild_marker(settings: Settings) -> Path:
    """Touched after each successful full rebuild of every model."""
    return settings.data_dir / "dbt" / "full-rebuild-done"


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])
