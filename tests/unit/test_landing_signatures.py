"""The lander's signature checks, decided without a broker: every refusal reason, in order, and the
registry rule that a registration never moves a project to another consortium."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kouiki.config import Settings
from kouiki.contract import check, rules
from kouiki.contract.model import decode
from kouiki.contract.signature import KEY_ID_HEADER, SIGNATURE_HEADER
from kouiki.identity import keys
from kouiki.identity.signing_keys import ensure_operator_key, keyring
from kouiki.landing.dead_letters import DEAD_LETTER, LANDED, Verifier, classify
from kouiki.sample.generator import generate
from tests.support.signing import key_headers, new_key

SAMPLE = generate(seed=5, quarters=1)
REPORT = SAMPLE.reports[0]
A = REPORT["consortium_code"]
PROJECT = next(d for d in SAMPLE.registry if d["entity"] == "project" and d["project_code"] == REPORT["project_code"])
CONSORTIUM = next(d for d in SAMPLE.registry if d["entity"] == "consortium" and d["consortium_code"] == A)
B_PROJECT = next(d for d in SAMPLE.registry if d["entity"] == "project" and d["consortium_code"] != A)
B = B_PROJECT["consortium_code"]
NOW_MS = int(datetime.now(UTC).timestamp() * 1000)
KEY_A, KEY_B, OPERATOR = new_key(A), new_key(B), new_key(keys.OPERATOR_SCOPE)
REVOKED_A = new_key(A, revoked_at=datetime.now(UTC) - timedelta(hours=1))
RING = {k.key_id: k for k in (KEY_A, KEY_B, OPERATOR, REVOKED_A)}
REPORTS, REGISTRY = "kouiki.reports.v1", "kouiki.registry.v1"


def encoded(doc: object) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def registry() -> rules.Registry:
    reg = rules.Registry()
    reg.add_valid_in_order(encoded(d) for d in SAMPLE.registry)
    return reg


def verdict(topic: str, value: bytes, headers: Any, ts: int = NOW_MS) -> tuple[str, str | None]:
    v = classify(topic, value, 1 << 20, registry(), Verifier(RING), headers, ts)
    assert v.status == LANDED or v.error_message
    return v.status, v.error_class


def test_a_report_signed_by_its_consortium_or_an_operator_lands() -> None:
    value = encoded(REPORT)
    assert verdict(REPORTS, value, key_headers(value, KEY_A)) == (LANDED, None)
    assert verdict(REPORTS, value, key_headers(value, OPERATOR)) == (LANDED, None)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        (None, keys.UNSIGNED),
        ([(KEY_ID_HEADER, KEY_A.key_id.encode())], keys.UNSIGNED),
        ([(SIGNATURE_HEADER, b"sha256=00")], keys.UNSIGNED),
        ([(KEY_ID_HEADER, b"KR-A-01.ffff"), (SIGNATURE_HEADER, b"sha256=00")], keys.UNKNOWN_KEY),
        ([(KEY_ID_HEADER, KEY_A.key_id.encode()), (SIGNATURE_HEADER, b"sha256=00")], keys.BAD_SIGNATURE),
        (key_headers(encoded(REPORT), REVOKED_A), keys.REVOKED_KEY),
        (key_headers(encoded(REPORT), KEY_B), keys.NOT_AUTHORIZED),
        (key_headers(encoded({**REPORT, "version": 99}), KEY_A), keys.BAD_SIGNATURE),  # tampered after signing
    ],
)
def test_every_refusal_has_its_reason(headers: Any, reason: str) -> None:
    assert verdict(REPORTS, encoded(REPORT), headers) == (DEAD_LETTER, reason)


def test_a_key_is_judged_at_the_record_timestamp() -> None:
    value = encoded(REPORT)
    before_revocation = int((REVOKED_A.revoked_at - timedelta(minutes=1)).timestamp() * 1000)  # type: ignore[operator]
    assert verdict(REPORTS, value, key_headers(value, REVOKED_A), before_revocation) == (LANDED, None)
    before_creation = int((KEY_A.created_at - timedelta(days=1)).timestamp() * 1000)
    assert verdict(REPORTS, value, key_headers(value, KEY_A), before_creation) == (DEAD_LETTER, keys.REVOKED_KEY)


def test_registrations_need_the_right_key() -> None:
    consortium = encoded({**CONSORTIUM, "prefectures": ["13", "14"]})
    assert verdict(REGISTRY, consortium, key_headers(consortium, KEY_A)) == (DEAD_LETTER, keys.NOT_AUTHORIZED)
    assert verdict(REGISTRY, consortium, key_headers(consortium, OPERATOR)) == (LANDED, None)
    project_of_b = encoded(B_PROJECT)
    assert verdict(REGISTRY, project_of_b, key_headers(project_of_b, KEY_A)) == (DEAD_LETTER, keys.NOT_AUTHORIZED)
    moved = encoded({**B_PROJECT, "consortium_code": A})  # B's project, claimed for A
    assert verdict(REGISTRY, moved, key_headers(moved, KEY_A)) == (DEAD_LETTER, keys.NOT_AUTHORIZED)


def test_the_not_authorized_message_names_the_consortium() -> None:
    checked = check.check_bytes(encoded(REPORT), registry(), KEY_B)
    assert checked.error_class == keys.NOT_AUTHORIZED == check.NOT_AUTHORIZED
    assert str(checked.violations[0]).startswith(
        f"$.consortium_code: key {KEY_B.key_id} may not write for consortium {A}"
    )
    assert " ／ " in str(checked.violations[0])


def test_a_registration_never_moves_a_project_to_another_consortium() -> None:
    moved = decode(encoded({**B_PROJECT, "consortium_code": A}))
    violations = rules.check_registry(moved, registry())
    assert any(v.path == "$.consortium_code" and B in v.message and v.message_ja for v in violations)
    assert not rules.check_registry(decode(encoded(B_PROJECT)), registry())


def test_the_operator_key_is_made_once_and_is_in_the_key_ring(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    key = ensure_operator_key(settings)
    key_id, secret = key.key_id, key.secret
    assert ensure_operator_key(settings) == key
    assert keys.scope_of(key_id) == keys.OPERATOR_SCOPE
    ring = keyring(settings)
    assert ring[key_id].operator and ring[key_id].secret == secret and ring[key_id].active_at(datetime.now(UTC))
