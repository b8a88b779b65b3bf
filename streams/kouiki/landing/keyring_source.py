"""The seam to the identity store: the key ring the lander checks signatures against, and the
platform's operator key that signs the sample data.

``kouiki.identity.store`` provides both (``keyring``, ``ensure_operator_key``). Until it is in this
tree, a JSON file ``<data dir>/run/signing-keys.json`` stands in for it, so the local platform and
the tests run the same code path; the file goes once the store is merged.
"""

from __future__ import annotations

import importlib
import json
import os
from datetime import UTC, datetime
from typing import Any

from kouiki.config import Settings
from kouiki.identity.keys import OPERATOR_SCOPE, KeyRing, SigningKey, new_key_id

_STORE = "kouiki.identity.store"
_FILE = "signing-keys.json"


def _store() -> Any | None:
    try:
        return importlib.import_module(_STORE)
    except ModuleNotFoundError as exc:
        if exc.name != _STORE:
            raise
        return None


def load_keyring(settings: Settings) -> KeyRing:
    """Every signing key (revoked ones with ``revoked_at``), secrets decrypted."""
    store = _store()
    if store is not None:
        ring: KeyRing = store.keyring(settings)
        return ring
    path = settings.run_dir / _FILE
    if not path.is_file():
        return {}
    return {k["key_id"]: _key(k) for k in json.loads(path.read_text(encoding="utf-8"))}


def ensure_operator_key(settings: Settings) -> tuple[str, str]:
    """The platform's operator key (key id, secret), created on first use."""
    store = _store()
    if store is not None:
        key_id, secret = store.ensure_operator_key(settings)
        return str(key_id), str(secret)
    for key in load_keyring(settings).values():
        if key.operator and key.revoked_at is None:
            return key.key_id, key.secret
    key = SigningKey(new_key_id(OPERATOR_SCOPE), os.urandom(32).hex(), True, None, datetime.now(UTC))
    _write(settings, [*load_keyring(settings).values(), key])
    return key.key_id, key.secret


def _key(entry: dict[str, Any]) -> SigningKey:
    revoked = entry.get("revoked_at")
    return SigningKey(
        entry["key_id"],
        entry["secret"],
        bool(entry["operator"]),
        entry.get("consortium_code"),
        datetime.fromisoformat(entry["created_at"]),
        datetime.fromisoformat(revoked) if revoked else None,
    )


def _write(settings: Settings, keys: list[SigningKey]) -> None:
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    path = settings.run_dir / _FILE
    entries = [
        {
            "key_id": k.key_id,
            "secret": k.secret,
            "operator": k.operator,
            "consortium_code": k.consortium_code,
            "created_at": k.created_at.isoformat(),
            "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
        }
        for k in keys
    ]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(entries, indent=1), encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)
