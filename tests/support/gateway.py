"""The REST gateway for tests: the real service (uvicorn, started as ``kouiki portal start`` does) on
a free port over the test's broker, its people (secretariats of two consortia, an operator, the
Cabinet Office) and sample documents of those consortia."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from kouiki.config import Settings
from kouiki.identity import users
from kouiki.sample.generator import generate
from kouiki.services import portal
from tests.support.platform import free_port

CONSORTIUM_A = "KR-TOH-01"
CONSORTIUM_B = "KR-KYS-01"


@dataclass(frozen=True)
class People:
    """Bearer tokens of each kind of principal."""

    a: str  # secretariat of CONSORTIUM_A
    b: str  # secretariat of CONSORTIUM_B
    operator: str
    cabinet: str
    passwords: dict[str, str] = field(default_factory=dict)  # by username, for the portal's login


def add_people(settings: Settings) -> People:
    added = [
        users.add_user(settings, "sec-a", "secretariat", [CONSORTIUM_A]),
        users.add_user(settings, "sec-b", "secretariat", [CONSORTIUM_B]),
        users.add_user(settings, "ops", "operator"),
        users.add_user(settings, "cabinet", "cabinet"),
    ]
    a, b, operator, cabinet = (u.token for u in added)
    return People(a, b, operator, cabinet, {u.username: u.password for u in added})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def jsonl(docs: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(d, ensure_ascii=False).encode() + b"\n" for d in docs)


@dataclass(frozen=True)
class Sample:
    registrations: list[dict[str, Any]]  # consortia A and B and their projects
    reports: dict[str, list[dict[str, Any]]]  # by consortium code


def sample(seed: int = 7) -> Sample:
    data = generate(seed=seed, quarters=8)
    codes = (CONSORTIUM_A, CONSORTIUM_B)
    return Sample(
        [d for d in data.registry if d["consortium_code"] in codes],
        {code: [d for d in data.reports if d["consortium_code"] == code] for code in codes},
    )


@dataclass(frozen=True)
class Gateway:
    settings: Settings
    url: str
    people: People

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=120)


@contextmanager
def running_gateway(settings: Settings) -> Iterator[Gateway]:
    """The real gateway process on a free port over ``settings``' broker and data directory."""
    settings = dataclasses.replace(settings, portal_port=free_port(), portal_max_body_bytes=4 * 1024 * 1024)
    people = add_people(settings)
    portal.start(settings)
    try:
        yield Gateway(settings, portal.base_url(settings), people)
    finally:
        portal.stop(settings)
