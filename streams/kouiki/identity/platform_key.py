"""The platform key, which encrypts signing secrets at rest (AES-256-GCM, the key id as associated data).

Taken from ``KOUIKI_PLATFORM_KEY`` when set, otherwise generated once per data directory into
``<data_dir>/run/secrets/platform_key`` (mode 0600), kept apart from the store: a copy of the store
alone decrypts nothing. Identity sits below ``services``, so this does what ``services.secrets_store``
does for the other secrets, with its own code.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kouiki.config import Settings
from kouiki.identity.errors import IdentityError

KEY_BYTES = 32
_VERSION = "v1"
_PURPOSE = b"kouiki identity: signing secrets at rest v1"


def key_path(settings: Settings) -> Path:
    return settings.run_dir / "secrets" / "platform_key"


def _decode(text: str, where: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise IdentityError(f"{where}: not URL-safe base64 ({exc})") from exc
    if len(raw) != KEY_BYTES:
        raise IdentityError(f"{where}: {len(raw)} bytes, the platform key must be {KEY_BYTES}")
    return raw


def platform_key(settings: Settings, *, create: bool = True) -> bytes:
    """The configured key, else this data directory's (generated when ``create`` and absent)."""
    if settings.platform_key:
        return _decode(settings.platform_key, "KOUIKI_PLATFORM_KEY")
    path = key_path(settings)
    if not path.exists():
        if not create:
            raise IdentityError(f"no platform key: set KOUIKI_PLATFORM_KEY or restore {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.parent.chmod(0o700)
        tmp = path.with_name(f".platform_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii") + "\n")
        try:
            os.link(tmp, path)  # complete before visible; the first of two racing processes wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return _decode(path.read_text(), str(path))


def _aead(key: bytes) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(key)
    return AESGCM(derived)


class SecretBox:
    """Encrypts and decrypts signing secrets with one platform key, each bound to its key id."""

    def __init__(self, key: bytes) -> None:
        self._aead = _aead(key)

    def seal(self, key_id: str, secret: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, secret.encode("utf-8"), key_id.encode("utf-8"))
        return f"{_VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"

    def open(self, key_id: str, sealed: str) -> str:
        version, _, body = sealed.partition(":")
        try:
            if version != _VERSION:
                raise ValueError(f"unknown format {version!r}")
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
            return self._aead.decrypt(raw[:12], raw[12:], key_id.encode("utf-8")).decode("utf-8")
        except (InvalidTag, ValueError, binascii.Error) as exc:
            raise IdentityError(
                f"the secret of key {key_id} cannot be decrypted: the platform key is not the one it was stored with"
            ) from exc
