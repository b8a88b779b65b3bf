"""Latency of the REST gateway: a 1-document POST and a 1,000-document JSON Lines POST.

Starts a broker and the gateway (uvicorn, as ``kouiki portal start`` does) on free ports over a fresh
data directory, registers two consortia's sample registrations as an operator, then times POSTs of
one consortium's secretariat (check, authorize, sign, send with acks=all, keep) and prints the median
of ``--runs`` each.

    .venv/bin/python bench/bench_gateway.py
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from kouiki.config import Settings
from kouiki.identity import users
from kouiki.sample.generator import generate
from kouiki.services import broker, portal
from kouiki.services.processes import free_port

CONSORTIUM = "KR-TOH-01"
NDJSON = {"Content-Type": "application/x-ndjson"}


def jsonl(docs: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(d, ensure_ascii=False).encode() + b"\n" for d in docs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="kouiki-bench-gateway-"))
    settings = Settings(data_dir=root / "data", bootstrap_servers=f"127.0.0.1:{free_port()}", portal_port=free_port())
    broker.start(settings)
    try:
        operator = users.add_user(settings, "bench-ops", "operator").token
        secretariat = users.add_user(settings, "bench-sec", "secretariat", [CONSORTIUM]).token
        portal.start(settings)
        sample = generate(seed=7, quarters=8)
        template = next(d for d in sample.reports if d["consortium_code"] == CONSORTIUM)
        with httpx.Client(base_url=portal.base_url(settings), timeout=300) as client:
            headers = {"Authorization": f"Bearer {operator}"} | NDJSON
            registry = [d for d in sample.registry if d["consortium_code"] == CONSORTIUM]
            client.post("/api/v1/submissions", content=jsonl(registry), headers=headers).raise_for_status()
            headers = {"Authorization": f"Bearer {secretariat}"} | NDJSON
            version = 1000

            def timed(n: int) -> float:
                nonlocal version
                docs = []
                for _ in range(n):
                    version += 1
                    docs.append(copy.deepcopy(template) | {"version": version, "event_id": str(uuid.uuid4())})
                started = time.perf_counter()
                response = client.post("/api/v1/submissions", content=jsonl(docs), headers=headers)
                took = time.perf_counter() - started
                response.raise_for_status()
                if any(d["status"] != "sent" for d in response.json()["documents"]):
                    raise SystemExit(f"not every document was sent: {response.text[:500]}")
                return took

            timed(1)  # warm-up: the producer's connection, the gateway's key
            for n in (1, 1000):
                runs = [timed(n) for _ in range(args.runs)]
                shown = ", ".join(f"{r * 1000:.0f}" for r in runs)
                print(f"{n:>5} documents per POST: median {statistics.median(runs) * 1000:.0f} ms ({shown})")
    finally:
        portal.stop(settings)
        broker.stop(settings)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
