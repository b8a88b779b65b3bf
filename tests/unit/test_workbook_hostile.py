"""Files that are not what they claim: each becomes one bilingual error record, never a traceback,
and a zip bomb is refused before any of it is inflated or parsed."""

import io
import zipfile

import openpyxl
import pytest

from kouiki.intake.files import Record
from kouiki.intake.uploads import read_upload

LIMIT = 1024 * 1024


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _only_error(records: list[Record]) -> tuple[str, str]:
    assert len(records) == 1
    (record,) = records
    assert record.raw is None and record.error and record.error_ja
    return record.error, record.error_ja


def test_a_member_inflating_over_the_limit_is_refused() -> None:
    bomb = _zip({"xl/worksheets/sheet1.xml": b"0" * (LIMIT + 1)})
    assert len(bomb) < 10_000
    en, ja = _only_error(read_upload("bomb.xlsx", bomb, "s", max_unpacked=LIMIT))
    assert "zip bomb" in en and "上限" in ja


def test_a_member_inflating_more_than_a_hundred_times_is_refused() -> None:
    bomb = _zip({"xl/sharedStrings.xml": b"\0" * (2 * 1024 * 1024)})
    en, _ = _only_error(read_upload("bomb.xlsx", bomb, "s", max_unpacked=64 * LIMIT))
    assert "100 times" in en


def test_too_many_members_are_refused() -> None:
    crowded = _zip({f"m{i}.xml": b"" for i in range(1001)})
    en, _ = _only_error(read_upload("many.xlsx", crowded, "s", max_unpacked=LIMIT))
    assert "1,001 parts" in en


def test_not_a_zip() -> None:
    en, ja = _only_error(read_upload("fake.xlsx", b"<html>not a workbook</html>", "s", max_unpacked=LIMIT))
    assert "not a zip" in en and ".xlsx" in ja


def test_a_zip_that_is_no_workbook() -> None:
    en, ja = _only_error(read_upload("other.xlsx", _zip({"readme.txt": b"hello"}), "s", max_unpacked=LIMIT))
    assert "cannot be read" in en and "保存し直して" in ja


def test_a_workbook_without_the_template_sheets() -> None:
    out = io.BytesIO()
    openpyxl.Workbook().save(out)
    en, ja = _only_error(read_upload("blank.xlsx", out.getvalue(), "s", max_unpacked=LIMIT))
    assert "報告" in en and "様式" in ja


@pytest.mark.parametrize("name", ["old.xls", "macro.xlsm", "report.ods", "noextension"])
def test_other_formats_are_not_supported(name: str) -> None:
    en, ja = _only_error(read_upload(name, b"\xd0\xcf\x11\xe0 whatever", "s", max_unpacked=LIMIT))
    assert ".xlsx" in en and ".xlsx" in ja
