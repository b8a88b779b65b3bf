"""The portal for tests: logging in through the form, reading the CSRF token off a page, and a
stand-in for the broker's producer (acknowledges every message) so the whole confirm path runs
without a broker."""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

import httpx

from kouiki.config import Settings
from kouiki.contract.rules import Registry
from tests.support.gateway import Sample, jsonl

TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')


def token_of(html: str) -> str:
    found = TOKEN.search(html)
    assert found is not None, html[:2000]
    return found.group(1)


def login(client: httpx.Client, username: str, password: str) -> str:
    """Log in through the form; the session's CSRF token (read off the home page)."""
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    home = client.get("/")
    assert home.status_code == 200 and username in home.text
    return token_of(home.text)


def upload(client: httpx.Client, token: str, name: str, body: bytes, **headers: str) -> httpx.Response:
    return client.post(
        "/submit",
        data={"csrf_token": token},
        files={"file": (name, body, "application/octet-stream")},
        headers=headers,
    )


def statuses(html: str) -> list[str]:
    """Each document's status as its cell shows it (e.g. ``["送信済", "却下"]``); not the page's
    explanation, which names every status."""
    return re.findall(r'<span class="state state-[a-z_]+">([^<]+)</span>', html)


def upload_id_of(html: str) -> str:
    found = re.search(r'name="upload_id" value="([^"]+)"', html)
    assert found is not None, html[:3000]
    return found.group(1)


@dataclass
class Meta:
    topic: str
    partition: int
    offset: int


class Future:
    def __init__(self, meta: Meta) -> None:
        self.meta = meta

    def get(self, timeout: float | None = None) -> Meta:
        return self.meta


@dataclass
class FakeProducer:
    sent: list[tuple[str, bytes]] = field(default_factory=list)

    def send(self, topic: str, key: bytes, value: bytes, headers: Any) -> Future:
        self.sent.append((topic, value))
        return Future(Meta(topic, 0, len(self.sent) - 1))

    def flush(self, timeout: float | None = None) -> None:
        return None


@dataclass
class FakeKafka:
    """Stands in for ``delivery.Kafka``: every message acknowledged, offsets counted from 0."""

    producer_: FakeProducer = field(default_factory=FakeProducer)

    def producer(self) -> FakeProducer:
        return self.producer_

    def epochs(self) -> dict[str, str]:
        return {}

    def close(self) -> None:
        return None


def registry_of(data: Sample) -> Any:
    """A registry function (as ``create_app`` takes) holding the sample's registrations."""
    values = jsonl(data.registrations).splitlines()

    def registry(_: Settings) -> Registry:
        found = Registry()
        found.add_valid_in_order(values)
        return found

    return registry


def zip_bomb(unpacked: int) -> bytes:
    """A small .xlsx-named zip whose one member unpacks to ``unpacked`` bytes of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * unpacked)
    return out.getvalue()


def filled_report(template: bytes, percent_complete: object = 50, summary: str = "計画どおり") -> bytes:
    """The report workbook with every pre-filled project's progress filled in (status 順調): the
    columns found by the hidden row of machine keys (row 3), as the reader finds them."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(template))
    sheet = next(ws for ws in book.worksheets if "percent_complete" in [c.value for c in ws[3]])
    column = {c.value: c.column for c in sheet[3] if c.value}
    for row in range(4, sheet.max_row + 1):
        if sheet.cell(row, column["project_code"]).value:
            sheet.cell(row, column["status"]).value = "順調"
            sheet.cell(row, column["percent_complete"]).value = percent_complete
            sheet.cell(row, column["summary_ja"]).value = summary
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_registrations(settings: Settings, data: Sample | None = None) -> None:
    """The sample's registrations of both consortia landed in the lake (keyed by consortium, as the
    lander keys them): what the report template is pre-filled from, without a broker."""
    from datetime import UTC, datetime

    from kouiki.lake import files as lake
    from kouiki.messaging.topics import REGISTRY_TOPIC
    from tests.support.gateway import sample

    now = datetime.now(UTC)
    docs = (data or sample()).registrations
    rows = [
        lake.Row(REGISTRY_TOPIC, "e1", 0, i, now, d["consortium_code"], json.dumps(d).encode(), now, lake.LANDED)
        for i, d in enumerate(docs)
    ]
    lake.write_batch(lake.partition_dir(settings.raw_dir, REGISTRY_TOPIC, "e1", 0), rows)
