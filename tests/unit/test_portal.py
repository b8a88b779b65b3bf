"""The secretariat portal's pages without a broker (FastAPI's TestClient; a stand-in producer where
something is sent): login and sessions, CSRF, what each person may see and download, the upload
check and confirmation, refusals as pages, language, and the API's located answers for workbooks."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from markupsafe import escape

from kouiki.config import Settings
from kouiki.gateway import tables
from kouiki.gateway.app import create_app
from kouiki.gateway.portal import history, i18n, pages, sessions
from kouiki.gateway.security import FailureLimiter
from kouiki.identity import audit, store, users
from kouiki.identity.principal import Principal
from kouiki.intake.template import report_workbook
from kouiki.lake import files as lake
from kouiki.messaging.clients import DeliveryError
from kouiki.messaging.topics import REPORTS_TOPIC
from tests.support.gateway import CONSORTIUM_A, CONSORTIUM_B, People, add_people, bearer, jsonl, sample
from tests.support.platform import free_port
from tests.support.portal import (
    FakeKafka,
    filled_report,
    login,
    registry_of,
    statuses,
    token_of,
    upload,
    upload_id_of,
    write_registrations,
    zip_bomb,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LIMIT = 256 * 1024


@pytest.fixture
def offline(tmp_path: Path) -> Settings:
    """A data directory and a broker address nobody listens on."""
    return Settings(
        data_dir=tmp_path / "data",
        bootstrap_servers=f"127.0.0.1:{free_port()}",
        portal_max_body_bytes=LIMIT,
        upload_max_unpacked_bytes=1024 * 1024,
    )


@pytest.fixture
def people(offline: Settings) -> People:
    return add_people(offline)


@pytest.fixture
def kafka() -> FakeKafka:
    return FakeKafka()


def make_client(settings: Settings, kafka: FakeKafka) -> TestClient:
    app = create_app(settings, registry=registry_of(sample()))
    app.state.kafka = kafka
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(offline: Settings, people: People, kafka: FakeKafka) -> Iterator[TestClient]:
    with make_client(offline, kafka) as c:
        yield c


@pytest.fixture
def other(offline: Settings, people: People, kafka: FakeKafka) -> Iterator[TestClient]:
    """A second browser on the same gateway."""
    with make_client(offline, kafka) as c:
        yield c


def as_user(client: TestClient, people: People, username: str) -> str:
    return login(client, username, people.passwords[username])


def actions(settings: Settings) -> list[audit.AuditEntry]:
    return audit.entries(settings)


def report(code: str = CONSORTIUM_A, index: int = 0, **changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(sample().reports[code][index])
    doc.update(changes)
    return doc


# ---------------------------------------------------------------- login, sessions


def test_login_sets_a_fresh_httponly_samesite_session_and_logout_ends_it(
    client: TestClient, offline: Settings, people: People
) -> None:
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    page = client.get("/login")
    assert page.status_code == 200 and '<html lang="ja">' in page.text and 'for="password"' in page.text
    wrong = client.post(
        "/login",
        data={"username": "sec-a", "password": "not-it", "csrf_token": token_of(page.text)},
        follow_redirects=False,
    )
    assert wrong.status_code == 401 and "ユーザー名またはパスワードが違います" in wrong.text
    assert sessions.COOKIE not in wrong.cookies

    first = as_user(client, people, "sec-a")
    earlier = client.cookies[sessions.COOKIE]
    assert first
    client.cookies.clear()
    client.cookies.set(sessions.COOKIE, earlier)  # the id the browser had: a new one is issued at login
    page = client.get("/login")
    assert page.status_code == 200
    answer = client.post(
        "/login",
        data={"username": "sec-a", "password": people.passwords["sec-a"], "csrf_token": token_of(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(f"{sessions.COOKIE}="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path=/", "samesite=lax"} <= flags and "secure" not in flags
    session_id = cookie.split(";")[0].split("=", 1)[1]
    assert session_id != earlier and len(session_id) >= 40
    with sessions.engine(offline).connect() as conn:
        stored = conn.execute(sa.select(sessions.sessions.c.session_sha256)).scalars().all()
    assert stored == [sessions.digest(session_id)]  # only the hash is kept, and the earlier one ended
    client.cookies.clear()
    client.cookies.set(sessions.COOKIE, session_id)

    home = client.get("/")
    assert home.status_code == 200 and "sec-a" in home.text and CONSORTIUM_A in home.text
    logout = client.post("/logout", data={"csrf_token": token_of(home.text)}, follow_redirects=False)
    assert logout.status_code == 303 and logout.headers["location"] == "/login"
    client.cookies.set(sessions.COOKIE, session_id)  # replaying the old cookie: the session is gone
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"

    log = actions(offline)
    logins = [(e.action, e.detail.get("reason")) for e in log if e.action.startswith("login.password")]
    assert ("login.password.refused", "wrong_password") in logins and ("login.password", "ok") in logins
    assert "logout" in [e.action for e in log]
    assert people.passwords["sec-a"] not in json.dumps([e.detail for e in log]) + str(log)


def test_secure_cookies_when_configured(offline: Settings, people: People, kafka: FakeKafka) -> None:
    with make_client(dataclasses.replace(offline, portal_secure_cookies=True), kafka) as client:
        page = client.get("/login")
        assert "secure" in page.headers["set-cookie"].lower()
        answer = client.post(
            "https://testserver/login",
            data={"username": "sec-a", "password": people.passwords["sec-a"], "csrf_token": token_of(page.text)},
            follow_redirects=False,
        )
        cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(f"{sessions.COOKIE}="))
        assert "secure" in cookie.lower()


def test_failed_logins_are_limited_per_address(client: TestClient, offline: Settings, people: People) -> None:
    client.app.state.login_failures = FailureLimiter(limit=3, window=60)  # type: ignore[attr-defined]

    def attempt(password: str) -> Any:
        page = client.get("/login")
        return client.post(
            "/login",
            data={"username": "sec-a", "password": password, "csrf_token": token_of(page.text)},
            follow_redirects=False,
        )

    assert [attempt(f"guess{i}").status_code for i in range(3)] == [401, 401, 401]
    refused = attempt(people.passwords["sec-a"])  # even the right password while throttled
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "ログインの失敗が多すぎます" in refused.text and "Too many failed logins" in refused.text
    reasons = [e.detail.get("reason") for e in actions(offline) if e.action == "login.password.refused"]
    assert reasons.count("wrong_password") == 3 and "throttled" in reasons


def test_a_session_expires_after_inactivity(client: TestClient, offline: Settings, people: People) -> None:
    as_user(client, people, "sec-a")
    assert client.get("/history").status_code == 200
    idle = store.now() - timedelta(hours=offline.portal_session_hours, seconds=1)
    with sessions.engine(offline).begin() as conn:
        conn.execute(sa.update(sessions.sessions).values(last_seen=idle))
    assert client.get("/history", follow_redirects=False).headers["location"] == "/login"


def test_a_revoked_user_loses_the_session_at_once(
    client: TestClient, other: TestClient, offline: Settings, people: People
) -> None:
    as_user(client, people, "sec-a")
    as_user(other, people, "sec-b")
    assert client.get("/").status_code == 200 and other.get("/").status_code == 200
    users.reset_password(offline, "sec-b")  # a new password ends the sessions of the old one
    assert other.get("/", follow_redirects=False).headers["location"] == "/login"
    users.revoke_user(offline, "sec-a")
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    assert client.get("/templates", follow_redirects=False).status_code == 303


# ---------------------------------------------------------------- CSRF


def test_every_post_form_refuses_a_missing_or_wrong_token_and_a_foreign_origin(
    client: TestClient, offline: Settings, people: People, kafka: FakeKafka
) -> None:
    page = client.get("/login")
    credentials = {"username": "sec-a", "password": people.passwords["sec-a"]}
    for token in (None, "wrong"):
        fields = credentials | ({"csrf_token": token} if token else {})
        refused = client.post("/login", data=fields, follow_redirects=False)
        assert refused.status_code == 403 and "不正な送信" in refused.text, token
        assert sessions.COOKIE not in refused.cookies
    foreign = client.post(
        "/login",
        data=credentials | {"csrf_token": token_of(page.text)},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert foreign.status_code == 403

    token = as_user(client, people, "sec-a")
    checked = upload(client, token, "ok.jsonl", jsonl([report()]))
    upload_id = upload_id_of(checked.text)
    posts = {
        "/logout": lambda t, h: client.post("/logout", data=t, headers=h, follow_redirects=False),
        "/submit": lambda t, h: client.post(
            "/submit", data=t, files={"file": ("ok.jsonl", jsonl([report()]))}, headers=h
        ),
        "/submit/confirm": lambda t, h: client.post(
            "/submit/confirm", data=t | {"upload_id": upload_id}, headers=h, follow_redirects=False
        ),
    }
    for path, post in posts.items():
        for fields, headers in (
            ({}, {}),
            ({"csrf_token": "wrong"}, {}),
            ({"csrf_token": token_of(page.text)}, {}),  # the login form's token is not the session's
            ({"csrf_token": token}, {"Origin": "http://evil.example"}),
        ):
            response = post(fields, headers)
            assert response.status_code == 403, (path, fields, headers)
            assert "Reload the page" in response.text
    assert kafka.producer_.sent == []  # nothing was sent
    assert client.get("/").status_code == 200  # and the session is still there
    reasons = [e.detail["reason"] for e in actions(offline) if e.action == "portal.csrf.refused"]
    assert {"missing_token", "wrong_token", "foreign_origin"} <= set(reasons) and len(reasons) == 15
    same_origin = client.post("/logout", data={"csrf_token": token}, headers={"Origin": "http://testserver"})
    assert same_origin.status_code == 200 and same_origin.url.path == "/login"


# ---------------------------------------------------------------- templates


def test_templates_only_for_the_secretariats_own_consortia(
    client: TestClient, offline: Settings, people: People
) -> None:
    as_user(client, people, "sec-a")
    page = client.get("/templates")
    assert page.status_code == 200 and CONSORTIUM_A in page.text and CONSORTIUM_B not in page.text
    assert 'for="consortium"' in page.text and 'for="period"' in page.text
    own = client.get("/templates/report.xlsx", params={"consortium": CONSORTIUM_A, "period": "FY2026Q2"})
    assert own.status_code == 200 and own.headers["content-type"] == XLSX
    disposition = own.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
    assert "%E5%9B%9B%E5%8D%8A%E6%9C%9F%E5%A0%B1%E5%91%8A" in disposition  # 四半期報告
    assert zipfile.is_zipfile(io.BytesIO(own.content))
    registration = client.get("/templates/registration.xlsx", params={"consortium": CONSORTIUM_A})
    assert registration.status_code == 200 and zipfile.is_zipfile(io.BytesIO(registration.content))
    for path, params in (
        ("/templates/report.xlsx", {"consortium": CONSORTIUM_B, "period": "FY2026Q2"}),
        ("/templates/registration.xlsx", {"consortium": CONSORTIUM_B}),
        ("/templates/report.xlsx", {"consortium": "", "period": "FY2026Q2"}),
    ):
        refused = client.get(path, params=params)
        assert refused.status_code == 403 and "ダウンロードできません" in refused.text, params
        assert refused.headers["content-type"].startswith("text/html")
    bad_period = client.get("/templates/report.xlsx", params={"consortium": CONSORTIUM_A, "period": "2026"})
    assert bad_period.status_code == 400
    refusals = [e for e in actions(offline) if e.action == "portal.template.refused"]
    assert len(refusals) == 3 and refusals[0].actor == "sec-a"


# ---------------------------------------------------------------- submit: check, confirm, history


def test_the_check_shows_every_problem_at_once_and_confirm_sends_only_the_valid(
    client: TestClient, offline: Settings, people: People, kafka: FakeKafka
) -> None:
    token = as_user(client, people, "sec-a")
    page = client.get("/submit")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text and 'for="file"' in page.text
    bad = report(index=1)
    bad["progress"]["percent_complete"] = 250
    bad["kpis"][0]["value"] = "many"
    docs = [report(index=0), bad, report(CONSORTIUM_B), report(index=2)]
    checked = upload(client, token, "報告.jsonl", jsonl(docs))
    assert checked.status_code == 200, checked.text
    assert "4 件中、問題なし 2 件、問題あり 2 件" in checked.text
    assert "報告.jsonl" in checked.text and "$.progress.percent_complete" in checked.text
    assert "値が大きすぎます" in checked.text and "is greater than the maximum" in checked.text
    assert f"{CONSORTIUM_B} の事務局ではありません" in checked.text  # the other consortium's, named
    assert "問題のある 2 件は送信されません" in checked.text
    assert kafka.producer_.sent == []  # nothing sent before the confirmation

    confirmed = client.post(
        "/submit/confirm", data={"csrf_token": token, "upload_id": upload_id_of(checked.text)}, follow_redirects=False
    )
    assert confirmed.status_code == 303 and confirmed.headers["location"].startswith("/history/")
    assert len(kafka.producer_.sent) == 2
    detail = client.get(confirmed.headers["location"])
    assert detail.status_code == 200 and sorted(statuses(detail.text)) == ["却下", "送信済", "送信済"]
    assert "受付番号" in detail.text and docs[0]["project_code"] in detail.text and docs[0]["period"] in detail.text
    assert "値が大きすぎます" in detail.text  # the rejected one keeps its located reasons
    again = client.post("/submit/confirm", data={"csrf_token": token, "upload_id": upload_id_of(checked.text)})
    assert again.status_code == 404 and len(kafka.producer_.sent) == 2  # sent once only
    listed = client.get("/history")
    assert confirmed.headers["location"] in listed.text and docs[0]["project_code"] in listed.text


def test_a_workbook_upload_names_the_cells_and_a_shift_jis_sheet_is_read(
    client: TestClient, offline: Settings, people: People, kafka: FakeKafka
) -> None:
    write_registrations(offline)
    token = as_user(client, people, "sec-a")
    template = client.get("/templates/report.xlsx", params={"consortium": CONSORTIUM_A, "period": "FY2025Q1"})
    checked = upload(client, token, "報告.xlsx", filled_report(template.content, percent_complete=250))
    assert checked.status_code == 200 and "問題なし 0 件" in checked.text and "送信する" not in checked.text
    assert re.search(r"報告!G\d+", checked.text) and "値が大きすぎます" in checked.text
    fixed = upload(client, token, "報告.xlsx", filled_report(template.content, percent_complete=80))
    assert "問題あり 0 件" in fixed.text and "すべての文書に問題はありません" in fixed.text
    sheet = (
        "consortium_code,project_code,period,version,status,percent_complete,summary_ja,line_type,kpi_code,value\n"
        f"{CONSORTIUM_A},{CONSORTIUM_A}-P01,FY2025Q9,1,on_track,10,順調です,kpi,FIRMS,3\n"
    ).encode("cp932")
    from_excel = upload(client, token, "報告.csv", sheet)
    assert from_excel.status_code == 200 and "順調です" in from_excel.text and "報告.csv" in from_excel.text
    assert kafka.producer_.sent == []


def test_an_unreachable_broker_keeps_the_upload_for_another_try(
    client: TestClient, people: People, kafka: FakeKafka, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = as_user(client, people, "sec-a")
    upload_id = upload_id_of(upload(client, token, "ok.jsonl", jsonl([report()])).text)

    def unreachable() -> None:
        raise DeliveryError("no broker")

    monkeypatch.setattr(kafka, "producer", unreachable)
    refused = client.post("/submit/confirm", data={"csrf_token": token, "upload_id": upload_id})
    assert (
        refused.status_code == 503
        and "ブローカーに接続できません" in refused.text
        and "nothing was sent" in refused.text
    )
    assert 'href="/history"' in refused.text  # the menu, on an error page of a logged-in browser
    monkeypatch.undo()
    sent = client.post("/submit/confirm", data={"csrf_token": token, "upload_id": upload_id})
    assert sent.status_code == 200 and sent.url.path.startswith("/history/") and len(kafka.producer_.sent) == 1


def test_an_upload_is_bound_to_its_user(
    client: TestClient, other: TestClient, people: People, kafka: FakeKafka
) -> None:
    token = as_user(client, people, "sec-a")
    upload_id = upload_id_of(upload(client, token, "ok.jsonl", jsonl([report()])).text)
    other_token = login(other, "sec-b", people.passwords["sec-b"])
    stolen = other.post("/submit/confirm", data={"csrf_token": other_token, "upload_id": upload_id})
    assert stolen.status_code == 404 and kafka.producer_.sent == []


def test_an_upload_expires_after_an_hour(
    client: TestClient, offline: Settings, people: People, kafka: FakeKafka
) -> None:
    token = as_user(client, people, "sec-a")
    upload_id = upload_id_of(upload(client, token, "ok.jsonl", jsonl([report()])).text)
    with sessions.engine(offline).begin() as conn:
        conn.execute(sa.update(sessions.uploads).values(created_at=store.now() - timedelta(hours=1, seconds=1)))
    late = client.post("/submit/confirm", data={"csrf_token": token, "upload_id": upload_id})
    assert late.status_code == 404 and "1時間" in late.text and kafka.producer_.sent == []
    upload(client, token, "again.jsonl", jsonl([report()]))  # a new upload discards the expired ones
    assert not (offline.run_dir / "portal" / "uploads" / upload_id).exists()


def test_user_text_is_escaped(client: TestClient, people: People) -> None:
    token = as_user(client, people, "sec-a")
    script = "<script>alert(1)</script>"
    doc = report()
    doc["progress"]["summary_ja"] = script
    hostile = report(index=1, project_code=script)
    checked = upload(client, token, f"{script}.jsonl", jsonl([doc, hostile]))
    assert checked.status_code == 200
    assert script not in checked.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in checked.text
    assert "<script" not in checked.text.lower() and "style=" not in checked.text


def test_oversized_unsupported_and_zip_bomb_uploads_are_refused_as_pages(
    client: TestClient, offline: Settings, people: People
) -> None:
    token = as_user(client, people, "sec-a")
    too_big = upload(client, token, "big.csv", b"x" * (LIMIT + 1))
    assert too_big.status_code == 413 and "ファイルが大きすぎます" in too_big.text and "too large" in too_big.text
    assert too_big.headers["content-type"].startswith("text/html") and f"{LIMIT:,}" in too_big.text
    other_kind = upload(client, token, "report.pdf", b"%PDF-1.7")
    assert other_kind.status_code == 415 and ".xlsx" in other_kind.text
    bomb = upload(client, token, "報告.xlsx", zip_bomb(4 * offline.upload_max_unpacked_bytes))
    assert bomb.status_code == 400 and "ファイルを読み込めませんでした" in bomb.text
    assert "送信する" not in bomb.text and "Traceback" not in bomb.text
    not_a_workbook = upload(client, token, "報告.xlsx", b"PK not really")
    assert not_a_workbook.status_code == 400 and "ファイルを読み込めませんでした" in not_a_workbook.text


def test_history_and_notices_never_show_another_consortium(
    client: TestClient, other: TestClient, offline: Settings, people: People, kafka: FakeKafka
) -> None:
    data = sample()
    ndjson = {"Content-Type": "application/x-ndjson"}
    b_only = client.post(
        "/api/v1/submissions", content=jsonl([report(CONSORTIUM_B)]), headers=bearer(people.b) | ndjson
    )
    b_id = b_only.json()["submission_id"]
    mixed_docs = [report(CONSORTIUM_A, 3), report(CONSORTIUM_B, 1)]
    mixed = client.post("/api/v1/submissions", content=jsonl(mixed_docs), headers=bearer(people.operator) | ndjson)
    mixed_id = mixed.json()["submission_id"]
    assert [d["status"] for d in mixed.json()["documents"]] == ["sent", "sent"]
    b_project = mixed_docs[1]["project_code"]

    as_user(client, people, "sec-a")
    listed = client.get("/history").text
    assert mixed_id in listed and b_id not in listed and b_project not in listed and CONSORTIUM_B not in listed
    assert client.get(f"/history/{b_id}").status_code == 404
    shown = client.get(f"/history/{mixed_id}")
    assert shown.status_code == 200 and mixed_docs[0]["project_code"] in shown.text
    assert b_project not in shown.text and CONSORTIUM_B not in shown.text and "1 件は表示していません" in shown.text
    for path in ("/", "/notices", "/templates", "/submit"):
        assert CONSORTIUM_B not in client.get(path).text, path
    assert client.get(f"/api/v1/submissions/{b_id}", headers=bearer(people.a)).status_code == 404

    login(other, "sec-b", people.passwords["sec-b"])
    theirs = other.get("/history").text
    assert b_id in theirs and mixed_id in theirs and mixed_docs[0]["project_code"] not in theirs
    assert CONSORTIUM_A not in other.get(f"/history/{mixed_id}").text

    other.cookies.clear()
    login(other, "cabinet", people.passwords["cabinet"])
    everything = other.get("/history").text
    assert b_id in everything and mixed_id in everything
    assert 'href="/submit"' not in other.get("/").text
    refused = other.get("/submit")
    assert refused.status_code == 403 and "事務局のみ" in refused.text
    cabinet_token = token_of(other.get("/").text)
    posted = upload(other, cabinet_token, "a.jsonl", jsonl([report()]))
    assert posted.status_code == 403 and "事務局のみ" in posted.text
    other.cookies.clear()
    login(other, "ops", people.passwords["ops"])
    assert other.get("/submit").status_code == 403 and mixed_id in other.get("/history").text
    assert data.registrations  # the registrations the registry was built from


def test_history_visibility_rules() -> None:
    a = Principal("sec-a", "secretariat", (CONSORTIUM_A,))
    assert history.document_visible(a, "sec-b", CONSORTIUM_A)
    assert not history.document_visible(a, "sec-a", CONSORTIUM_B)
    assert history.document_visible(a, "sec-a", None) and not history.document_visible(a, "sec-b", None)
    assert history.document_visible(Principal("cab", "cabinet"), "sec-b", CONSORTIUM_B)


# ---------------------------------------------------------------- the API's located answers


def test_the_api_reads_workbooks_and_shift_jis_sheets_with_located_errors(
    client: TestClient, offline: Settings, people: People
) -> None:
    auth = bearer(people.a)
    write_registrations(offline)  # the template is pre-filled with the consortium's registered projects
    template = report_workbook(offline, CONSORTIUM_A, "FY2025Q1")
    answer = client.post("/api/v1/submissions", content=template, headers=auth | {"Content-Type": XLSX})
    assert answer.status_code == 400 and answer.json()["error"]["message_ja"]  # nothing filled in yet
    workbook = filled_report(template, percent_complete=250)
    answer = client.post("/api/v1/submissions", content=workbook, headers=auth | {"Content-Type": XLSX})
    assert answer.status_code == 200, answer.text
    documents = answer.json()["documents"]
    assert documents and all(d["status"] == "rejected" for d in documents)
    locations = [e["location"] for d in documents for e in d["errors"]]
    assert locations and all(re.search(r"報告!G\d+$", where) for where in locations), locations
    good = client.post(
        "/api/v1/submissions", content=filled_report(template), headers=auth | {"Content-Type": XLSX}
    ).json()["documents"]
    assert good and {d["status"] for d in good} == {"sent"}, good
    bomb = client.post("/api/v1/submissions", content=zip_bomb(4 * 1024 * 1024), headers=auth | {"Content-Type": XLSX})
    assert bomb.status_code == 400 and bomb.json()["error"]["message_ja"]

    sheet = (
        "consortium_code,project_code,period,version,status,percent_complete,summary_ja,line_type,kpi_code,value\n"
        f"{CONSORTIUM_A},{CONSORTIUM_A}-P01,FY2025Q9,1,on_track,10,順調です,kpi,FIRMS,3\n"
    ).encode("cp932")
    for content_type in ("text/csv; charset=shift_jis", "text/csv; charset=windows-31j", "text/csv"):
        answer = client.post("/api/v1/submissions", content=sheet, headers=auth | {"Content-Type": content_type})
        assert answer.status_code == 200, (content_type, answer.text)
        (doc,) = answer.json()["documents"]
        assert doc["status"] == "rejected" and doc["errors"][0]["location"], doc
    refused = client.post(
        "/api/v1/submissions", content=b"{}", headers=auth | {"Content-Type": "application/json; charset=shift_jis"}
    )
    assert refused.status_code == 415
    described = client.get("/openapi.json").json()["paths"]["/api/v1/submissions"]["post"]["requestBody"]
    assert XLSX in described["content"] and "location" in described["description"]


def test_json_errors_in_the_api_answer_name_their_location(client: TestClient, people: People) -> None:
    bad = report()
    bad["progress"]["percent_complete"] = 250
    answer = client.post(
        "/api/v1/submissions",
        content=jsonl([bad]),
        headers=bearer(people.a) | {"Content-Type": "application/x-ndjson"},
    )
    (doc,) = answer.json()["documents"]
    assert doc["status"] == "rejected" and doc["project_code"] == bad["project_code"]
    assert all(e["location"] for e in doc["errors"])


# ---------------------------------------------------------------- language, headers, errors


def test_language_switch_is_remembered(client: TestClient, people: People) -> None:
    english = client.get("/login?lang=en")
    assert '<html lang="en">' in english.text and "Username" in english.text and "ユーザー名" not in english.text
    assert "kouiki_lang=en" in english.headers["set-cookie"]
    as_user(client, people, "sec-a")
    home = client.get("/")
    assert '<html lang="en">' in home.text and "Templates" in home.text
    japanese = client.get("/history?lang=ja")
    assert '<html lang="ja">' in japanese.text and "提出履歴" in japanese.text
    assert '<html lang="ja">' in client.get("/").text


def test_pages_get_a_strict_csp_and_no_inline_script_or_style(client: TestClient, people: People) -> None:
    as_user(client, people, "sec-a")
    for path in ("/", "/templates", "/submit", "/history", "/notices", "/login", "/static/portal.css", "/nowhere"):
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "style-src 'self'" in csp and "form-action 'self'" in csp, path
        assert "frame-ancestors 'none'" in csp and "img-src 'self' data:" in csp
        assert response.headers["x-frame-options"] == "DENY" and response.headers["x-content-type-options"] == "nosniff"
        # no-referrer would make Chromium send "Origin: null" on the portal's own forms (the browser
        # journey test logs in through it); same-origin leaks nothing to other sites either
        assert response.headers["referrer-policy"] == "same-origin", path
        if response.headers["content-type"].startswith("text/html"):
            text = response.text.lower()
            assert "<script" not in text and "style=" not in text and "<style" not in text, path
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and "ページが見つかりません" in missing.text and "not found" in missing.text
    assert client.get("/api/v1/nowhere").json()["error"]["code"] == "http_error"  # the API stays JSON


def test_an_unexpected_error_is_a_bilingual_page_without_a_traceback(
    client: TestClient, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_user(client, people, "sec-a")

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(history, "listed", broken)
    page = client.get("/history")
    assert page.status_code == 500 and "内部エラーが発生しました" in page.text and "internal error" in page.text
    assert "secret internals" not in page.text and "Traceback" not in page.text


def test_new_columns_are_added_to_an_older_table(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    old = sa.MetaData()
    sa.Table(
        "gateway_documents",
        old,
        *(
            sa.Column(c.name, c.type, primary_key=c.primary_key)
            for c in tables.documents.columns
            if c.name not in ("project_code", "period")
        ),
    )
    old.create_all(engine)
    assert tables.add_missing_columns(engine, tables.metadata) == [
        "gateway_documents.project_code",
        "gateway_documents.period",
    ]
    assert tables.add_missing_columns(engine, tables.metadata) == []
    assert {"project_code", "period"} <= {c["name"] for c in sa.inspect(engine).get_columns("gateway_documents")}
    indexed = [i["column_names"] for i in sa.inspect(engine).get_indexes("gateway_documents")]
    assert ["consortium_code"] in indexed


def test_notices_show_only_ones_own_consortia_with_a_badge(
    client: TestClient, other: TestClient, offline: Settings, people: People
) -> None:
    now = store.now()
    a_doc, b_doc = report(CONSORTIUM_A), report(CONSORTIUM_B)
    lake.write_batch(
        lake.partition_dir(offline.raw_dir, REPORTS_TOPIC, "e1", 0),
        [
            lake.Row(REPORTS_TOPIC, "e1", 0, i, now, None, json.dumps(doc).encode(), now, lake.DEAD_LETTER, *why)
            for i, (doc, why) in enumerate(
                ((a_doc, ("UnknownCode", "A <broke>")), (b_doc, ("RuleViolation", "B broke")))
            )
        ],
    )
    as_user(client, people, "sec-a")
    page = client.get("/notices").text
    assert 'class="notice notice-dead_letter"' in page and CONSORTIUM_B not in page and "B broke" not in page
    notices = pages.Notices(offline).of(Principal("sec-a", "secretariat", (CONSORTIUM_A,)))
    assert notices and all(n.consortium_code == CONSORTIUM_A for n in notices)
    assert re.search(rf'class="badge"[^>]*>{len(notices)}<', client.get("/").text)
    assert str(escape(notices[0].title_ja)) in page and str(escape(notices[0].title_en)) in page
    english = client.get("/notices?lang=en").text
    assert '<html lang="en">' in english and str(escape(notices[0].detail_en)) in english

    login(other, "sec-b", people.passwords["sec-b"])
    theirs = other.get("/notices").text
    assert (
        'class="notice notice-dead_letter"' in theirs and CONSORTIUM_A not in theirs and "A &lt;broke&gt;" not in theirs
    )
    # operators and the Cabinet Office see both consortia's refusals
    for kind in ("operator", "cabinet"):
        seen = pages.Notices(offline).of(Principal(kind, kind))
        assert {n.consortium_code for n in seen if n.kind == "dead_letter"} == {CONSORTIUM_A, CONSORTIUM_B}


def test_history_follows_each_document_to_landed_published_or_dead_lettered(
    client: TestClient, offline: Settings, people: People, kafka: FakeKafka, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kafka, "epochs", lambda: {REPORTS_TOPIC: "e1"})
    token = as_user(client, people, "sec-a")
    checked = upload(client, token, "r.jsonl", jsonl([report(index=0), report(index=1)]))
    confirmed = client.post("/submit/confirm", data={"csrf_token": token, "upload_id": upload_id_of(checked.text)})
    assert confirmed.status_code == 200 and statuses(confirmed.text) == ["送信済", "送信済"]
    now = store.now()
    lake.write_batch(
        lake.partition_dir(offline.raw_dir, REPORTS_TOPIC, "e1", 0),
        [
            lake.Row(REPORTS_TOPIC, "e1", 0, 0, now, "P", b"{}", now, lake.LANDED),
            lake.Row(REPORTS_TOPIC, "e1", 0, 1, now, "P", b"{}", now, lake.DEAD_LETTER, "UnknownCode", "no <KPI>"),
        ],
    )
    shown = client.get(str(confirmed.url)).text
    assert statuses(shown) == ["取込済", "エラー"] and "UnknownCode: no &lt;KPI&gt;" in shown
    assert "先に事業登録を提出" in shown  # what to do about it
    offline.serving_path.parent.mkdir(parents=True, exist_ok=True)
    offline.serving_path.write_bytes(b"published later")
    english = client.get(f"{confirmed.url.path}?lang=en").text
    assert "published" in english and "submit the project registration first" in english


def test_every_label_the_templates_use_is_in_the_catalog_in_both_languages() -> None:
    folder = Path(pages.__file__).parent / "templates"
    pattern = r"""\bt\(["']([a-z0-9_.]+)["']"""
    used = {key for path in folder.glob("*.html") for key in re.findall(pattern, path.read_text())}
    prefixed = {
        "kind.": ("secretariat", "operator", "cabinet"),
        "status.": ("sent", "landed", "published", "dead_lettered", "rejected"),
        "notice.": ("dead_letter", "report_due", "report_overdue"),
    }
    assert {k for k in used if k.endswith(".")} == set(prefixed)
    used = {k for k in used if not k.endswith(".")} | {p + v for p, vs in prefixed.items() for v in vs}
    assert used <= set(i18n.CATALOG), used - set(i18n.CATALOG)
    assert all(ja and en and ja != en for ja, en in i18n.CATALOG.values())
