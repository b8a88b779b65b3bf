"""The REST gateway as a secretariat meets it: the real uvicorn process, the real broker, landing
into the lake, and what each caller may see."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import pytest
from kafka import TopicPartition

from kouiki.config import Settings
from kouiki.contract.signature import header_values, matches
from kouiki.gateway.signing import gateway_key
from kouiki.landing import coordinator
from kouiki.messaging import clients
from kouiki.messaging.topics import REPORTS_TOPIC
from kouiki.services import portal
from tests.support.gateway import (
    CONSORTIUM_A,
    CONSORTIUM_B,
    Gateway,
    bearer,
    jsonl,
    sample,
)
from tests.support.platform import free_port, run_kouiki

pytestmark = pytest.mark.integration
NDJSON = {"Content-Type": "application/x-ndjson"}


def post(gw: Gateway, token: str, body: bytes, content_type: str = "application/x-ndjson") -> dict[str, Any]:
    with gw.client() as client:
        response = client.post(
            "/api/v1/submissions", content=body, headers=bearer(token) | {"Content-Type": content_type}
        )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def get(gw: Gateway, token: str, path: str) -> Any:
    with gw.client() as client:
        return client.get(path, headers=bearer(token))


def test_secretariats_submit_their_own_and_only_their_own(gateway: Gateway) -> None:
    gw, people, data = gateway, gateway.people, sample()
    registered = post(gw, people.operator, json.dumps(data.registrations).encode(), "application/json")
    assert {d["status"] for d in registered["documents"]} == {"sent"}, registered

    genuine_b = data.reports[CONSORTIUM_B][0]
    sent_b = post(gw, people.b, jsonl([genuine_b]))["documents"][0]
    assert sent_b["status"] == "sent" and sent_b["errors"] == []

    # A posts B's report with a higher version: refused, naming B, and never sent
    forged = copy.deepcopy(genuine_b) | {"version": 99, "event_id": "5f0c1b8e-9a52-4b7a-9c1e-0d2f3a4b5c6d"}
    attack = post(gw, people.a, jsonl([forged]))
    (refused,) = attack["documents"]
    assert refused["status"] == "rejected" and refused["receipt"] is None
    assert CONSORTIUM_B in refused["errors"][0]["message"] and CONSORTIUM_B in refused["errors"][0]["message_ja"]
    # A cannot re-register B's consortium either (nor its own: that needs an operator)
    consortium_b = next(
        d for d in data.registrations if d["entity"] == "consortium" and d["consortium_code"] == CONSORTIUM_B
    )
    assert post(gw, people.a, jsonl([consortium_b]))["documents"][0]["status"] == "rejected"

    own = post(gw, people.a, jsonl([data.reports[CONSORTIUM_A][0]]))
    (sent_a,) = own["documents"]
    assert sent_a["status"] == "sent", own
    receipt = sent_a["receipt"]
    assert receipt["topic"] == REPORTS_TOPIC and receipt["offset"] >= 0

    # a CSV sheet of A's own project: one report, submitted_by A's username
    first_a = data.reports[CONSORTIUM_A][0]
    kpi = first_a["kpis"][0]["kpi_code"]
    sheet = (
        "consortium_code,project_code,period,version,status,percent_complete,line_type,kpi_code,value\n"
        f"{CONSORTIUM_A},{first_a['project_code']},{first_a['period']},7,on_track,40,kpi,{kpi},3\n"
    ).encode()
    from_csv = post(gw, people.a, sheet, "text/csv")["documents"]
    assert [d["status"] for d in from_csv] == ["sent"], json.dumps(from_csv, ensure_ascii=False)

    # what went out is signed with the gateway's key and stamped with A's username
    consumer = clients.consumer(gw.settings)
    tp = TopicPartition(receipt["topic"], receipt["partition"])
    consumer.assign([tp])
    consumer.seek(tp, receipt["offset"])
    (message,) = consumer.poll(timeout_ms=10_000, max_records=1)[tp]
    consumer.close()
    key_id, signature = header_values(message.headers)
    key = gateway_key(gw.settings)
    assert key_id == key.key_id and signature is not None and matches(message.value, key.secret, signature)
    assert b'"submitted_by": "sec-a"' in message.value
    before = get(gw, people.a, f"/api/v1/submissions/{own['submission_id']}").json()
    assert before["documents"][0]["status"] == "sent"

    coordinator.land(gw.settings)
    after = get(gw, people.a, f"/api/v1/submissions/{own['submission_id']}").json()
    landed = after["documents"][0]
    assert landed["status"] == "landed" and landed["landed_at"], after
    assert landed["receipt"]["offset"] == receipt["offset"]
    gw.settings.serving_path.parent.mkdir(parents=True, exist_ok=True)
    gw.settings.serving_path.write_bytes(b"published after landing")
    assert get(gw, people.a, f"/api/v1/submissions/{own['submission_id']}").json()["documents"][0]["status"] == (
        "published"
    )

    # each sees their own; B never sees A's; operators and the Cabinet Office see all
    listed = {
        p: {s["submission_id"] for s in get(gw, t, "/api/v1/submissions").json()["submissions"]}
        for p, t in (("a", people.a), ("b", people.b), ("ops", people.operator), ("cab", people.cabinet))
    }
    assert {attack["submission_id"], own["submission_id"]} <= listed["a"] and len(listed["a"]) == 4
    assert len(listed["b"]) == 1 and not listed["a"] & listed["b"]
    assert listed["ops"] == listed["cab"] == listed["a"] | listed["b"] | {registered["submission_id"]}
    assert get(gw, people.b, f"/api/v1/submissions/{own['submission_id']}").status_code == 404
    assert get(gw, people.cabinet, f"/api/v1/submissions/{own['submission_id']}").status_code == 200

    # the audit log: operators only, with who, what and from where
    assert get(gw, people.a, "/api/v1/audit").status_code == 403
    entries = get(gw, people.operator, "/api/v1/audit").json()["entries"]
    mine = [e for e in entries if e["action"] == "submission" and e["subject"] == own["submission_id"]]
    assert mine and mine[0]["actor"] == "sec-a" and mine[0]["source"] == "127.0.0.1"
    assert mine[0]["detail"]["sent"] == 1 and mine[0]["detail"]["consortia"] == [CONSORTIUM_A]


def test_the_real_service_refuses_bad_requests_with_clear_errors(gateway: Gateway) -> None:
    gw = gateway
    with gw.client() as client:
        for headers in ({}, bearer("kouiki_not-a-token"), {"Authorization": "Basic c2VjOmE="}):
            response = client.get("/api/v1/submissions", headers=headers)
            assert response.status_code == 401 and response.json()["error"]["message_ja"]
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["cache-control"] == "no-store"
            assert "server" not in response.headers
        huge = b"{" + b" " * (gw.settings.portal_max_body_bytes + 1) + b"}"
        response = client.post("/api/v1/submissions", content=huge, headers=bearer(gw.people.a) | NDJSON)
        assert response.status_code == 413
        response = client.post("/api/v1/submissions", content=b"a,b", headers=bearer(gw.people.a))
        assert response.status_code == 415
        response = client.get("/docs")
        assert response.status_code == 200 and response.headers["x-frame-options"] == "DENY"
        assert client.get("/openapi.json").json()["paths"]["/api/v1/submissions"]


def test_kouiki_portal_start_status_stop(shared_broker: Settings) -> None:
    settings = dataclasses.replace(shared_broker, portal_port=free_port())
    try:
        started = run_kouiki(settings, "portal", "start", check=True).stdout
        assert f"http://127.0.0.1:{settings.portal_port}" in started
        assert "answering" in run_kouiki(settings, "portal", "status", check=True).stdout
        assert run_kouiki(settings, "portal", "start", check=True).stdout == started  # already running: the same pid
    finally:
        assert run_kouiki(settings, "portal", "stop", check=True).stdout.strip() == "portal: stopped"
    assert "stopped" in portal.status(settings)
