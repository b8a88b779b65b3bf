"""A warm dbt: one long-lived process of the dbt environment that parses the project once and then
runs each dbt command it is sent with dbtRunner, so a small incremental build does not pay dbt's
imports and project parsing (about 4 s of a 6 s run at national scale) every time.

    .venv-dbt/bin/python infra/dbt/worker.py --socket PATH --project-dir dbt_project

Started by ``kouiki up`` (kouiki.services.dbt_worker) with the environment ``kouiki build`` gives
dbt (DUCKDB_PATH, DBT_TARGET_PATH, ...); kouiki.warehouse.dbt sends its commands here while it
runs and starts dbt itself otherwise. Commands arrive one at a time on a Unix socket (mode 0600):
one JSON line ``{"args": [...], "env": {...}}`` in, one JSON line ``{"success": bool, "output":
"..."}`` out, the output being dbt's console lines. ``env`` holds the variables dbt reads (the
warehouse path, the data directory, ...), set before each command. The project is parsed again when
one of its files or one of those variables changed. Imports only the standard library and dbt: it
runs in .venv-dbt.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import signal
import socketserver
import sys
import traceback
from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunner
from dbt_common.events.base_types import EventMsg

SKIPPED_FOLDERS = {"target", "logs", "dbt_packages", ".user.yml"}


def fingerprint(project: Path) -> list[tuple[str, int, int]]:
    """Every project file's path, size and mtime."""
    files = []
    for root, dirs, names in os.walk(project):
        dirs[:] = [d for d in dirs if d not in SKIPPED_FOLDERS]
        for name in names:
            stat = os.stat(os.path.join(root, name))
            files.append((os.path.join(root, name), stat.st_size, stat.st_mtime_ns))
    return sorted(files)


def release_warehouse() -> None:
    """Close dbt-duckdb's DuckDB instance, which it keeps in a class attribute across invocations of
    one process: the warehouse file must be closed and checkpointed (no .wal) between commands so
    that publish can copy it and a subprocess dbt can open it."""
    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        if env is not None:
            env.close()
        DuckDBConnectionManager._ENV = None


class Worker:
    def __init__(self, project: Path) -> None:
        self.project = project
        self.manifest: bytes | None = None  # pickled
        self.spare: Any = None  # an unpickled copy, ready for the next command
        self.seen: list[tuple[str, int, int]] = []

    def parse_if_changed(self, env: dict[str, str]) -> None:
        env_changed = any(os.environ.get(key) != value for key, value in env.items())
        os.environ.update(env)
        now = fingerprint(self.project)
        if self.manifest is not None and now == self.seen and not env_changed:
            return
        self.manifest = self.spare = None  # until a parse succeeds
        result = dbtRunner().invoke(["parse", "--project-dir", str(self.project), "--no-use-colors"])
        if not result.success:
            raise RuntimeError(f"dbt parse failed: {result.exception}")
        self.manifest, self.seen = pickle.dumps(result.result), now

    def prepare(self) -> None:
        """Unpickle the next command's copy of the manifest (0.2 s), between commands. Each command
        gets its own: compiling marks the manifest's nodes as compiled (with ephemeral CTEs
        injected), and a second command over the same objects would not inject them again."""
        if self.spare is None and self.manifest is not None:
            self.spare = pickle.loads(self.manifest)  # noqa: S301 - pickled by this process

    def run(self, args: list[str], env: dict[str, str]) -> dict[str, Any]:
        lines: list[str] = []

        def console(event: EventMsg) -> None:  # what dbt prints: info and above
            if event.info.level != "debug" and event.info.msg:
                lines.append(str(event.info.msg))

        # manifest.json (about 1 s to write at this project's size) is written by each parse; a run
        # or build leaves it alone and writes only its run_results.json
        results_only = args[:1] in (["run"], ["build"]) and "--no-write-json" not in args
        try:
            self.parse_if_changed(env)
            self.prepare()
            manifest, self.spare = self.spare, None
            result = dbtRunner(manifest=manifest, callbacks=[console]).invoke(
                [*args, "--no-write-json"] if results_only else args
            )
            if results_only and hasattr(result.result, "write"):
                result.result.write(os.path.join(os.environ.get("DBT_TARGET_PATH", "target"), "run_results.json"))
            if result.exception is not None:
                lines.append(f"{type(result.exception).__name__}: {result.exception}")
            return {"success": bool(result.success), "output": "\n".join(lines)}
        except Exception:  # a broken request must not stop the worker: report it to the caller
            return {"success": False, "output": "\n".join([*lines, traceback.format_exc()])}
        finally:
            release_warehouse()


def serve(socket_path: Path, worker: Worker) -> None:
    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            request = json.loads(self.rfile.readline())
            reply = worker.run([str(a) for a in request["args"]], {str(k): str(v) for k, v in request["env"].items()})
            self.wfile.write(json.dumps(reply, ensure_ascii=False).encode() + b"\n")
            self.wfile.flush()
            worker.prepare()  # after the caller has its answer

    socket_path.unlink(missing_ok=True)
    old_mask = os.umask(0o177)  # the socket is created 0600: only this user may run dbt through it
    try:
        server = socketserver.UnixStreamServer(str(socket_path), Handler)
    finally:
        os.umask(old_mask)
    print(f"dbt worker ready on {socket_path}", flush=True)
    # SIGTERM stops the worker between commands: a build it runs finishes first
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _frame: stopping.append(signum))
    server.timeout = 0.5
    try:
        with server:
            while not stopping:
                server.handle_request()
    finally:
        socket_path.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", type=Path, required=True)
    parser.add_argument("--project-dir", type=Path, required=True)
    args = parser.parse_args()
    worker = Worker(args.project_dir.resolve())
    worker.parse_if_changed({})  # before listening, in the environment it was started with
    if Path(os.environ.get("DUCKDB_PATH", "")).is_file():  # (compiling would create an empty one)
        # the first command of a process pays for the adapter's first use (imports, first
        # connection, Jinja's template cache): pay it here, with one that writes no table
        warm_up = worker.run(["compile", "--select", "int_consortia_latest", "--project-dir", str(worker.project)], {})
        print(f"warm-up compile: {'ok' if warm_up['success'] else warm_up['output']}", flush=True)
    worker.prepare()
    serve(args.socket, worker)


if __name__ == "__main__":
    sys.exit(main())
