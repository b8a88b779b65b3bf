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
  redo: the marker of the last full rebuild holds a fingerprint of the project, and a different
  one (an upgrade) makes the next build full. A warehouse that never had a full rebuild recorded
  (one from before incremental builds) gets one.

dbt is the warehouse file's only writer. Callers serialise build and publish (the Airflow DAGs
share a one-slot pool; the CLI runs them one after the other).

Every dbt command goes to the warm dbt worker (infra/dbt/worker.py, started with the platform) when
it runs, which saves dbt's start-up and parsing, and to a new dbt process otherwise (and with
``--vars``, which the worker's parsed project does not reflect).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
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
    warm: bool  # run by the warm dbt worker


@dataclass(frozen=True)
class DbtRun:
    """A finished dbt command."""

    returncode: int
    stdout: str  # dbt's console lines
    stderr: str
    warm: bool  # run by the warm dbt worker, not a new process


def dbt_env(settings: Settings) -> dict[str, str]:
    """The process environment with :func:`dbt_variables` over it."""
    return {**os.environ, **dbt_variables(settings)}


def dbt_variables(settings: Settings) -> dict[str, str]:
    """What dbt reads from the environment for this data directory."""
    return {
        **settings.environment(),
        "DUCKDB_PATH": str(settings.warehouse_path),
        "DBT_PROFILES_DIR": str(project_dir(settings)),
        "DBT_LOG_PATH": str(settings.data_dir / "dbt" / "logs"),
        "DBT_TARGET_PATH": str(settings.data_dir / "dbt" / "target"),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }


def worker_socket(settings: Settings) -> Path:
    """Where the warm dbt worker of this data directory listens."""
    return settings.run_dir / "dbt.sock"


def dbt(settings: Settings, *args: str, timeout: float = 1800) -> DbtRun:
    """Run a dbt command against this data directory: in the warm dbt worker if it runs, else in a
    new process of the dbt virtual environment."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    folder = project_dir(settings)
    arguments = [*args, "--project-dir", str(folder), "--no-use-colors"]
    done = None if "--vars" in args else _in_worker(settings, arguments, timeout)
    if done is not None:
        return done
    proc = subprocess.run(
        [str(settings.venv_executable(".venv-dbt", "dbt")), *arguments],
        env=dbt_env(settings),
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return DbtRun(proc.returncode, proc.stdout, proc.stderr, warm=False)


def _in_worker(settings: Settings, arguments: list[str], timeout: float) -> DbtRun | None:
    """The command's outcome from the warm dbt worker; None when no worker listens (not started,
    still parsing, or stopped), before anything was sent."""
    path = worker_socket(settings)
    if not path.exists():
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except OSError:
            return None
        with sock.makefile("rwb") as stream:
            stream.write(json.dumps({"args": arguments, "env": dbt_variables(settings)}).encode() + b"\n")
            stream.flush()
            line = stream.readline()
    if not line:
        raise BuildError(
            f"the dbt worker ({path}) closed the connection without an answer; see run/logs/dbt-worker.log"
        )
    reply = json.loads(line)
    return DbtRun(0 if reply["success"] else 1, reply["output"], "", warm=True)


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
        marker = _full_rebuild_marker(settings)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(project_fingerprint(settings), encoding="utf-8")
    done = [line for line in proc.stdout.splitlines() if "Done. PASS=" in line]
    return BuildResult(time.monotonic() - started, done[-1].strip() if done else "", full, proc.warm)


def full_rebuild_due(settings: Settings) -> bool:
    """No warehouse, no full rebuild recorded, the dbt project changed since the last one (an
    incremental model whose columns changed cannot be run incrementally), or the last one is
    older than full_rebuild_hours."""
    marker = _full_rebuild_marker(settings)
    if not settings.warehouse_path.exists() or not marker.exists():
        return True
    if marker.read_text(encoding="utf-8").strip() != project_fingerprint(settings):
        return True
    hours = settings.full_rebuild_hours
    return hours > 0 and time.time() - marker.stat().st_mtime > hours * 3600


def project_fingerprint(settings: Settings) -> str:
    """SHA-256 over the dbt project's models, seeds, macros, tests and dbt_project.yml."""
    root = settings.project_root / "dbt_project"
    digest = hashlib.sha256()
    files = [root / "dbt_project.yml"]
    for folder in ("models", "seeds", "macros", "tests"):
        files += sorted(p for p in (root / folder).rglob("*") if p.is_file())
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _full_rebuild_marker(settings: Settings) -> Path:
    """Touched after each successful full rebuild of every model."""
    return settings.data_dir / "dbt" / "full-rebuild-done"


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])
