"""The gateway's request handling without a broker (FastAPI's TestClient): authentication, limits,
content types, located errors, authorization, security headers and status from the lake."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kouiki.config import Settings
from kouiki.gateway import status, submissions
from kouiki.gateway.app import create_app
from kouiki.gateway.security import FailureLimiter
from kouiki.identity import users
from kouiki.identity.principal import Principal
from kouiki.lake import files as lake
from kouiki.lake.registry import from_lake
from kouiki.messaging.topics import REPORTS_TOPIC
from tests.support.gateway import CONSORTIUM_A, CONSORTIUM_B, People, add_people, bearer, jsonl, sample
from tests.support.platform import free_port

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


@pytest.fixture
def offline(tmp_path: Path) -> Settings:
    """A data directory and a broker address nobody listens on."""
    return Settings(
        data_dir=tmp_path / "data", bootstrap_servers=f"127.0.0.1:{free_port()}", portal_max_body_bytes=4096
    )


@pytest.fixture
def people(offline: Settings) -> People:
    return add_people(offline)


@pytest.fixture
def client(offline: Settings, people: People) -> Iterator[TestClient]:
    with TestClient(create_app(offline, registry=from_lake)) as c:  # no broker to read registrations from
        yield c


def test_no_unknown_or_revoked_token_is_401_and_audited(client: TestClient, offline: Settings, people: People) -> None:
    assert client.get("/api/v1/me", headers=bearer(people.a)).json()["consortia"] == [CONSORTIUM_A]
    users.revoke_user(offline, "sec-b")
    for headers in ({}, bearer("kouiki_unknown"), bearer(people.b), {"Authorization": "Bearer"}):
        response = client.get("/api/v1/submissions", headers=headers)
        assert response.status_code == 401
        error = response.json()["error"]
        assert error["message"] and error["message_ja"] and response.headers["www-authenticate"].startswith("Bearer")
        assert all(response.headers[k] == v for k, v in SECURITY_HEADERS.items())
    log = client.get("/api/v1/audit", headers=bearer(people.operator)).json()["entries"]
    reasons = [e["detail"].get("reason") for e in log if e["action"] == "login.token.refused"]
    assert {"missing_token", "unknown_token", "revoked_user", "not_bearer"} <= set(reasons)
    assert people.b not in json.dumps(log) and people.a not in json.dumps(log)  # no token in the log


def test_failed_token_attempts_are_limited_per_address(client: TestClient, people: People) -> None:
    client.app.state.failures = FailureLimiter(limit=3, window=60)  # type: ignore[attr-defined]
    codes = [client.get("/api/v1/me", headers=bearer(f"kouiki_guess{i}")).status_code for i in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    refused = client.get("/api/v1/me", headers=bearer(people.a))
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0


def test_size_limit_content_types_and_malformed_json(client: TestClient, people: People) -> None:
    auth = bearer(people.a)
    json_type = {"Content-Type": "application/json"}
    assert client.post("/api/v1/submissions", content=b"x" * 5000, headers=auth | json_type).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(10):
            yield b"x" * 1000

    assert client.post("/api/v1/submissions", content=chunks(), headers=auth | json_type).status_code == 413
    for content_type in ("text/plain", "application/xml", "application/json; charset=shift_jis", ""):
        response = client.post("/api/v1/submissions", content=b"{}", headers=auth | {"Content-Type": content_type})
        assert response.status_code == 415, content_type
    response = client.post("/api/v1/submissions", content=b'{"a": 1,', headers=auth | json_type)
    assert response.status_code == 400
    assert response.json()["error"]["errors"][0]["message"].startswith("invalid JSON")
    # JSON Lines: each line is a document; a malformed line is that document's located error
    body = b'{"consortium_code": "KR-TOH-01"\n{"not": "closed"\n'
    answer = client.post("/api/v1/submissions", content=body, headers=auth | {"Content-Type": "application/x-ndjson"})
    assert answer.status_code == 200
    documents = answer.json()["documents"]
    assert [d["record"] for d in documents] == [1, 2] and {d["status"] for d in documents} == {"rejected"}
    assert all(d["errors"][0]["path"] == "$" and d["errors"][0]["message_ja"] for d in documents)


def test_documents_for_another_consortium_are_rejected_naming_it(client: TestClient, people: People) -> None:
    data = sample()
    b_report = data.reports[CONSORTIUM_B][0]
    ndjson = {"Content-Type": "application/x-ndjson"}
    for token in (people.a, people.cabinet):
        answer = client.post("/api/v1/submissions", content=jsonl([b_report]), headers=bearer(token) | ndjson).json()
        (doc,) = answer["documents"]
        assert doc["status"] == "rejected" and doc["consortium_code"] == CONSORTIUM_B
        assert CONSORTIUM_B in doc["errors"][0]["message"] and CONSORTIUM_B in doc["errors"][0]["message_ja"]
    sheet = (
        "consortium_code,project_code,period,version,status,percent_complete,line_type,kpi_code,value\n"
        f"{CONSORTIUM_B},{CONSORTIUM_B}-P01,FY2025Q1,1,on_track,10,kpi,FIRMS,3\n"
    ).encode()
    answer = client.post("/api/v1/submissions", content=sheet, headers=bearer(people.a) | {"Content-Type": "text/csv"})
    assert answer.json()["documents"][0]["status"] == "rejected"
    assert CONSORTIUM_B in answer.json()["documents"][0]["errors"][0]["message"]
    listed = client.get("/api/v1/submissions", headers=bearer(people.a)).json()["submissions"]
    assert len(listed) == 2 and all(s["sent"] == 0 and s["submitted_by"] == "sec-a" for s in listed)
    assert client.get("/api/v1/submissions", headers=bearer(people.b)).json()["submissions"] == []


def test_submitted_by_is_the_authenticated_username() -> None:
    raw = json.dumps({"submitted_by": "someone@else", "consortium_code": "X"}).encode()
    stamped, doc = submissions.stamped(raw, "sec-a")
    assert json.loads(stamped)["submitted_by"] == "sec-a" and doc["consortium_code"] == "X"
    same = json.dumps({"submitted_by": "sec-a"}).encode()
    assert submissions.stamped(same, "sec-a")[0] is same  # unchanged bytes when it already is
    assert submissions.stamped(b"{broken", "sec-a") == (b"{broken", None)
    who = Principal("sec-a", "secretariat", (CONSORTIUM_A,))
    assert submissions.refusal(who, "report", CONSORTIUM_A) is None
    refused = submissions.refusal(who, "consortium", CONSORTIUM_A)
    assert refused is not None and "operator" in refused.message


def test_status_is_derived_from_the_lake(offline: Settings) -> None:
    now = datetime.now(UTC)
    folder = lake.partition_dir(offline.raw_dir, REPORTS_TOPIC, "e1", 0)
    lake.write_batch(
        folder,
        [
            lake.Row(REPORTS_TOPIC, "e1", 0, 0, now, "P", b"{}", now, lake.LANDED),
            lake.Row(REPORTS_TOPIC, "e1", 0, 1, now, "P", b"{}", now, lake.DEAD_LETTER, "RuleViolation", "bad"),
        ],
    )

    def doc(offset: int, epoch: str | None = "e1") -> dict[str, object]:
        return {
            "record": offset + 1, "line": 1, "kind": "report", "consortium_code": CONSORTIUM_A, "event_id": "e",
            "status": "sent", "errors": [], "topic": REPORTS_TOPIC, "epoch": epoch, "partition": 0, "offset": offset,
        }  # fmt: skip

    tracked = status.track(offline, [doc(0), doc(1), doc(2), doc(0, None)], lambda: {REPORTS_TOPIC: "e1"})
    assert [d["status"] for d in tracked] == ["landed", "dead_lettered", "sent", "landed"]
    assert tracked[1]["dead_letter"] == {"error_class": "RuleViolation", "error_message": "bad"}
    offline.serving_path.parent.mkdir(parents=True, exist_ok=True)
    offline.serving_path.write_bytes(b"serving")
    assert status.track(offline, [doc(0)], dict)[0]["status"] == "published"


def test_an_expired_token_is_401_and_audited(offline: Settings, people: People) -> None:
    """Tokens are accepted for KOUIKI_TOKEN_TTL_DAYS after they were issued; a zero lifetime expires
    them at once."""
    expired = dataclasses.replace(offline, token_ttl_days=0)
    with TestClient(create_app(expired, registry=from_lake)) as client:
        response = client.get("/api/v1/me", headers=bearer(people.a))
        assert response.status_code == 401 and response.json()["error"]["message_ja"]
    with TestClient(create_app(offline, registry=from_lake)) as client:
        assert client.get("/api/v1/me", headers=bearer(people.a)).status_code == 200
        log = client.get("/api/v1/audit", headers=bearer(people.operator)).json()["entries"]
    assert "expired_token" in [e["detail"].get("reason") for e in log if e["action"] == "login.token.refused"]
