"""``SHA256SUMS``: the SHA-256 of every file of a snapshot, in ``sha256sum`` format, so
``sha256sum -c SHA256SUMS`` verifies a copy. Written last: its presence marks a complete snapshot."""

from __future__ import annotations

import hashlib
from pathlib import Path

MANIFEST = "SHA256SUMS"


def sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def files_of(root: Path) -> list[Path]:
    """Every file under ``root`` but the manifest, as paths relative to it, sorted."""
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file() and p.name != MANIFEST)


def write_manifest(root: Path) -> Path:
    lines = [f"{sha256(root / relative)}  {relative.as_posix()}\n" for relative in files_of(root)]
    path = root / MANIFEST
    path.write_text("".join(lines), encoding="utf-8")
    return path
