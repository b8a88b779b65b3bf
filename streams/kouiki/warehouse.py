"""``kouiki build``: run ``dbt build`` over the lake into warehouse.duckdb, then publish a copy as
serving.duckdb by atomic rename, so readers never block a build nor see a half-built file.

dbt is the warehouse file's only writer. Callers serialise build and publish (the Airflow DAGs
share a one-slot pool; the CLI runs them one after the other).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from kouiki.config import REPO_ROOT, Settings, venv_bin

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


class BuildError(RuntimeError):
    pass


@dataclass(frozen=True)
class BuildResult:
    seconds: float
    summary: str  # dbt's closing "Done. PASS=… WARN=… ERROR=…" line


def dbt_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "KOUIKI_DATA_DIR": str(settings.data_dir),
        "DUCKDB_PATH": str(settings.warehouse_path),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_LOG_PATH": str(settings.data_dir / "dbt" / "logs"),
        "DBT_TARGET_PATH": str(settings.data_dir / "dbt" / "target"),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    })
    return env


def dbt(settings: Settings, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    """Run a dbt command from the dbt virtual environment against this data directory."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    command = [str(venv_bin(".venv-dbt", "dbt")), *args, "--project-dir", str(DBT_PROJECT_DIR), "--no-use-colors"]
    return subprocess.run(command, env=dbt_env(settings), cwd=DBT_PROJECT_DIR, capture_output=True, text=True,
                          timeout=timeout, check=False)


def build(settings: Settings, select: str | None = None) -> BuildResult:
    started = time.monotonic()
    args = ["build"] + (["--select", select] if select else [])
    proc = dbt(settings, *args)
    if proc.returncode != 0:
        raise BuildError(f"dbt build failed (exit {proc.returncode}):\n{_tail(proc.stdout + proc.stderr)}")
    done = [line for line in proc.stdout.splitlines() if "Done. PASS=" in line]
    return BuildResult(time.monotonic() - started, done[-1].strip() if done else "")


def publish(settings: Settings) -> Path:
    """Copy the warehouse next to the serving file, fsync it, and rename it over the serving file."""
    source, target = settings.warehouse_path, settings.serving_path
    if not source.exists():
        raise BuildError(f"nothing to publish: {source} does not exist; run `kouiki build` first")
    if Path(f"{source}.wal").exists():
        raise BuildError(f"{source}.wal exists: a writer is still open or crashed; not publishing")
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, tmp)
    with tmp.open("rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, target)
    return target


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])
