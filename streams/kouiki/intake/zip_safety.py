"""What an ``.xlsx`` (a zip) must be before any XML in it is parsed: a zip, of at most ``MAX_MEMBERS``
members whose declared sizes add up to at most the configured limit, none inflating more than
``MAX_RATIO`` times (a zip bomb does). Python's zipfile never inflates a member past its declared
size, so the declared sizes bound what is read."""

from __future__ import annotations

import io
import zipfile

from kouiki.intake.cell_values import CellError

MAX_MEMBERS = 1000
MAX_RATIO = 100
# Small members of a real workbook (styles, shared strings of a repetitive sheet) may compress far
# better than 100:1 and are harmless at that size; the ratio is judged from this size on.
RATIO_FROM_BYTES = 1024 * 1024


def checked_zip(raw: bytes, max_unpacked: int) -> zipfile.ZipFile:
    """The opened zip, or CellError saying in English and Japanese why it is refused."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise CellError(
            "not an .xlsx workbook (not a zip file); save it in Excel as .xlsx",
            "Excel ブック（.xlsx）ではありません。Excel で .xlsx 形式で保存してください",
        ) from None
    if len(members) > MAX_MEMBERS:
        raise _refused(f"it holds {len(members):,} parts (at most {MAX_MEMBERS:,})")
    unpacked = sum(m.file_size for m in members)
    if unpacked > max_unpacked:
        raise _refused(f"it unpacks to {unpacked:,} bytes (at most {max_unpacked:,})")
    for member in members:
        if member.file_size >= RATIO_FROM_BYTES and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            raise _refused(f"part {member.filename!r} inflates more than {MAX_RATIO} times")
    return archive


def _refused(reason: str) -> CellError:
    return CellError(
        f"workbook refused: {reason}; this looks like a zip bomb, not a report",
        "ブックを受け付けません: 展開後のサイズまたは圧縮率が上限を超えています（不正なファイルの可能性があります）",
    )
