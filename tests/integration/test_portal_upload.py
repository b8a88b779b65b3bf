"""The secretariat portal on the real gateway process and broker: log in through the form, upload,
check, confirm, and follow the document from sent to landed in the history; the other consortium's
secretariat sees none of it."""

from __future__ import annotations

import json

import pytest

from kouiki.landing import coordinator
from tests.support.gateway import CONSORTIUM_A, CONSORTIUM_B, Gateway, bearer, jsonl, sample
from tests.support.portal import login, statuses, upload, upload_id_of

pytestmark = pytest.mark.integration


def test_upload_confirm_and_follow_it_to_landed(gateway: Gateway) -> None:
    gw, people, data = gateway, gateway.people, sample()
    with gw.client() as api:
        registered = api.post(
            "/api/v1/submissions",
            content=json.dumps(data.registrations).encode(),
            headers=bearer(people.operator) | {"Content-Type": "application/json"},
        )
    assert {d["status"] for d in registered.json()["documents"]} == {"sent"}, registered.text

    own, bad = data.reports[CONSORTIUM_A][0], dict(data.reports[CONSORTIUM_A][1], version="one")
    with gw.client() as browser:
        token = login(browser, "sec-a", people.passwords["sec-a"])
        checked = upload(browser, token, "報告.jsonl", jsonl([own, bad]))
        assert checked.status_code == 200 and "2 件中、問題なし 1 件、問題あり 1 件" in checked.text
        confirmed = browser.post(
            "/submit/confirm",
            data={"csrf_token": token, "upload_id": upload_id_of(checked.text)},
            follow_redirects=True,
        )
        assert confirmed.status_code == 200 and confirmed.url.path.startswith("/history/"), confirmed.text
        submission = confirmed.url.path
        assert sorted(statuses(confirmed.text)) == ["却下", "送信済"] and "受付番号" in confirmed.text
        assert own["project_code"] in confirmed.text and own["period"] in confirmed.text

        coordinator.land(gw.settings)
        assert sorted(statuses(browser.get(submission).text)) == ["却下", "取込済"]
        assert submission in browser.get("/history").text

        # the same submission through the API: the receipt, and the rejected document located
        documents = browser.get(f"/api/v1{submission.replace('/history', '/submissions')}", headers=bearer(people.a))
        states = [d["status"] for d in documents.json()["documents"]]
        assert states == ["landed", "rejected"] and documents.json()["documents"][1]["errors"][0]["location"]

    with gw.client() as other:
        login(other, "sec-b", people.passwords["sec-b"])
        assert submission not in other.get("/history").text
        assert other.get(submission).status_code == 404
        assert CONSORTIUM_A not in other.get("/").text and CONSORTIUM_B in other.get("/").text
