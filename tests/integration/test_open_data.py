"""``kouiki open-data`` against a real published warehouse: the sample (seven quarters, so one is
not yet due) built by dbt with an as-of date, published, and snapshotted; every file read back and
compared with the serving file."""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import re
import shutil
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from kouiki.config import Settings
from kouiki.open_data.public_tables import EXCLUDED_COLUMNS, EXCLUDED_TABLES, PUBLIC_TABLES
from kouiki.open_data.snapshot import Snapshot, write_snapshot
from kouiki.sample.generator import generate
from kouiki.sample.national import write_to_lake
from kouiki.warehouse.dbt import dbt
from kouiki.warehouse.publish import publish
from tests.support.platform import run_kouiki, settings_for

pytestmark = pytest.mark.integration
AS_OF = date(2026, 11, 25)  # FY2026Q2 was due 2026-10-30; FY2026Q3 (in the sample) is not due yet
QUARTER, QUARTER_END = "FY2026Q2", date(2026, 9, 30)
ROOT_FILES = {"datapackage.json", "SHA256SUMS"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = settings_for(tmp_path_factory.mktemp("open-data") / "data", "127.0.0.1:9")
    sample = generate(seed=42, quarters=7)
    write_to_lake(settings.raw_dir, [*sample.registry, *sample.reports], epoch="test")
    # seeds and models only: the dbt tests are test_dbt_project.py's
    skip_tests = ("--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")
    proc = dbt(settings, "build", *skip_tests, "--vars", json.dumps({"as_of_date": AS_OF.isoformat()}))
    assert proc.returncode == 0, proc.stdout[-5000:]
    publish(settings)
    return settings


@pytest.fixture(scope="module")
def snapshot(served: Settings, tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    return write_snapshot(served, out=tmp_path_factory.mktemp("snapshots"), as_of=AS_OF)


@pytest.fixture(scope="module")
def package(snapshot: Snapshot) -> dict[str, Any]:
    descriptor: dict[str, Any] = json.loads((snapshot.path / "datapackage.json").read_text(encoding="utf-8"))
    return descriptor


def serving_rows(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def expected_sql(resource: dict[str, Any]) -> str:
    """The resource's table in the serving file, limited to the snapshot's quarter."""
    table = next(t for t in PUBLIC_TABLES if t.name == resource["name"])
    names = [f["name"] for f in resource["schema"]["fields"]]
    where = ""
    if "period" in names:
        where = f"where period in (select period from marts.dim_fiscal_period where end_date <= '{QUARTER_END}')"
    elif "fiscal_year" in names:
        where = "where fiscal_year <= 2026"
    return f"select {', '.join(names)} from {table.qualified} {where}"


def read_csv(path: Path, fields: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The CSV's rows, each value converted by its Table Schema type; an empty cell is null."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        assert next(reader) == [field["name"] for field in fields]
        return [tuple(typed(value, field["type"]) for value, field in zip(row, fields, strict=True)) for row in reader]


def typed(text: str, kind: str) -> Any:
    if text == "":
        return None
    if kind == "integer":
        assert re.fullmatch(r"-?\d+", text), f"{text!r} is not written as an integer"
        return int(text)
    convert = {
        "number": float,
        "boolean": {"true": True, "false": False}.__getitem__,
        "date": date.fromisoformat,
        "datetime": datetime.fromisoformat,
    }.get(kind, str)
    return convert(text)


def plain(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A serving row as the CSV reads back: decimals as floats, empty strings as null."""
    return tuple(float(v) if isinstance(v, Decimal) else None if v == "" else v for v in row)


def test_the_snapshot_is_of_the_latest_quarter_due(snapshot: Snapshot) -> None:
    assert snapshot.written and snapshot.period == QUARTER
    assert snapshot.path == snapshot.path.parent / QUARTER
    assert sorted(p.name for p in snapshot.path.parent.iterdir()) == [QUARTER], "no temporary directory is left"
    optional = {t.name for t in PUBLIC_TABLES if t.optional}
    assert {t.name for t in PUBLIC_TABLES} - optional <= set(snapshot.rows)


def test_csv_has_a_bom_and_reads_back_to_the_serving_rows(served: Settings, snapshot: Snapshot, package: Any) -> None:
    for resource in package["resources"]:
        path = snapshot.path / resource["path"]
        assert path.read_bytes().startswith(codecs.BOM_UTF8), path
        actual = read_csv(path, resource["schema"]["fields"])
        expected = [plain(row) for row in serving_rows(served, expected_sql(resource))]
        assert Counter(actual) == Counter(expected), resource["name"]
        assert len(actual) == snapshot.rows[resource["name"]]


def test_rows_after_the_quarter_are_left_out(served: Settings, snapshot: Snapshot, package: Any) -> None:
    [(later,)] = serving_rows(served, "select count(*) from marts.fct_investment where period = 'FY2026Q3'")
    assert later > 0, "the sample must have a quarter that is not due yet"
    investment = next(r for r in package["resources"] if r["name"] == "fct_investment")
    fields = investment["schema"]["fields"]
    at = [f["name"] for f in fields].index("period")
    periods = {row[at] for row in read_csv(snapshot.path / investment["path"], fields)}
    assert "FY2026Q3" not in periods and QUARTER in periods


def test_yen_reconcile_to_the_marts_to_the_yen(served: Settings, snapshot: Snapshot, package: Any) -> None:
    checked = 0
    for resource in package["resources"]:
        fields = resource["schema"]["fields"]
        yen = [i for i, f in enumerate(fields) if f["name"].endswith("_jpy")]
        if not yen:
            continue
        rows = read_csv(snapshot.path / resource["path"], fields)
        sums = ", ".join(f"sum({fields[i]['name']})" for i in yen)
        [totals] = serving_rows(served, f"select {sums} from ({expected_sql(resource)})")
        for i, total in zip(yen, totals, strict=True):
            assert fields[i]["type"] == "integer", "yen are whole"
            assert sum(row[i] or 0 for row in rows) == int(total or 0), f"{resource['name']}.{fields[i]['name']}"
            checked += 1
    assert checked >= 8  # fct_investment, mart_prefecture_summary, dim_project, fct_consortium_prefecture_year


def test_parquet_holds_the_same_rows(served: Settings, snapshot: Snapshot, package: Any) -> None:
    with duckdb.connect() as con:
        con.execute(f"attach '{served.serving_path}' as serving (read_only)")
        con.execute("use serving")
        for resource in package["resources"]:
            [parquet] = [a["path"] for a in resource["alternates"] if a["format"] == "parquet"]
            written = f"select * from read_parquet('{snapshot.path / parquet}')"
            table = expected_sql(resource)
            for one, other in ((written, table), (table, written)):
                assert con.execute(f"select count(*) from ({one} except all {other})").fetchone() == (0,), parquet
            assert con.execute(f"select count(*) from ({written})").fetchone() == (snapshot.rows[resource["name"]],)


def test_the_datapackage_describes_every_file_and_column(snapshot: Snapshot, package: Any) -> None:
    assert package["profile"] == "tabular-data-package"
    assert package["licenses"][0]["name"] == "CC-BY-4.0" and "政府標準利用規約" in package["description"]
    assert datetime.fromisoformat(package["created"]) and package["title"]
    listed = set()
    for resource in package["resources"]:
        assert resource["profile"] == "tabular-data-resource" and resource["encoding"] == "utf-8-sig"
        assert resource["dialect"]["header"] is True and resource["description"] and resource["title"]
        assert "{{" not in resource["description"], "doc() references are resolved"
        for field in resource["schema"]["fields"]:
            assert field["type"] in {"integer", "number", "string", "date", "datetime", "boolean"}, field
            assert field["description"] and "{{" not in field["description"], field
        for entry in [resource, *resource["alternates"]]:
            path = snapshot.path / entry["path"]
            assert entry["bytes"] == path.stat().st_size
            assert entry["hash"] == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
            listed.add(entry["path"])
    files = {p.relative_to(snapshot.path).as_posix() for p in snapshot.path.rglob("*") if p.is_file()}
    assert listed == files - ROOT_FILES
    keys = {r["name"]: r["schema"].get("primaryKey") for r in package["resources"]}
    assert keys["fct_investment"] == ["investment_key"] and keys["dim_prefecture"] == ["pref_code"]
    kpis = next(r for r in package["resources"] if r["name"] == "fct_kpi_contribution")
    assert kpis["description"].startswith("KPI貢献ファクト"), "the {% docs %} block is resolved"


def test_primary_keys_are_unique_in_the_csv(snapshot: Snapshot, package: Any) -> None:
    for resource in package["resources"]:
        fields = resource["schema"]["fields"]
        key = [i for i, f in enumerate(fields) if f["name"] in resource["schema"].get("primaryKey", [])]
        if key:
            values = [tuple(row[i] for i in key) for row in read_csv(snapshot.path / resource["path"], fields)]
            assert len(values) == len(set(values)) and None not in {v[0] for v in values}, resource["name"]


def test_sha256sums_verify_every_file(snapshot: Snapshot) -> None:
    lines = (snapshot.path / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    sums = dict(reversed(re.fullmatch(r"([0-9a-f]{64})  (\S+)", line).groups()) for line in lines)  # type: ignore[union-attr]
    files = {p.relative_to(snapshot.path).as_posix() for p in snapshot.path.rglob("*") if p.is_file()}
    assert set(sums) == files - {"SHA256SUMS"}
    for name, digest in sums.items():
        assert hashlib.sha256((snapshot.path / name).read_bytes()).hexdigest() == digest, name


def test_no_private_table_or_column_is_published(snapshot: Snapshot, package: Any) -> None:
    names = {r["name"] for r in package["resources"]}
    assert not names & {t.split(".")[1] for t in EXCLUDED_TABLES}
    assert not names & {"fct_dead_letter_events", "fct_stuck_partitions"}
    for resource in package["resources"]:
        columns = {f["name"] for f in resource["schema"]["fields"]}
        assert not columns & {*EXCLUDED_COLUMNS, "submitted_by"}, resource["name"]
        assert not {c for c in columns if "mail" in c}, resource["name"]
    for path in (snapshot.path / "csv").iterdir():
        header = path.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
        assert "submitted_by" not in header and "kafka_offset" not in header, path


def test_every_mart_and_report_is_decided_on(served: Settings) -> None:
    tables = serving_rows(
        served,
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_schema in ('marts', 'reports')",
    )
    public = {t.qualified for t in PUBLIC_TABLES}
    undecided = {name for (name,) in tables} - public - set(EXCLUDED_TABLES)
    assert not undecided, (
        f"add each to PUBLIC_TABLES or EXCLUDED_TABLES in kouiki/open_data/public_tables.py: {undecided}"
    )
    assert not public & set(EXCLUDED_TABLES)


def test_a_second_run_changes_nothing(served: Settings, snapshot: Snapshot) -> None:
    files = sorted(p for p in snapshot.path.rglob("*") if p.is_file())
    before = {p: (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest()) for p in files}
    again = write_snapshot(served, out=snapshot.path.parent, as_of=AS_OF)
    assert not again.written and again.path == snapshot.path and "already complete" in again.describe()
    assert {p: (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest()) for p in files} == before
    assert sorted(p for p in snapshot.path.rglob("*") if p.is_file()) == files
    assert sorted(p.name for p in snapshot.path.parent.iterdir()) == [QUARTER]


def test_a_failed_snapshot_leaves_nothing_under_the_quarters_name(served: Settings, tmp_path: Path) -> None:
    project = tmp_path / "checkout"
    shutil.copytree(served.project_root / "dbt_project" / "models", project / "dbt_project" / "models")
    for path in (project / "dbt_project" / "models").rglob("_prefecture__models.yml"):
        path.unlink()  # mart_prefecture_summary is undocumented now: refused after earlier tables are written
    settings = settings_for(served.data_dir, "127.0.0.1:9", project_dir=project)
    out = tmp_path / "open_data"
    proc = run_kouiki(settings, "open-data", "--out", str(out), "--as-of", AS_OF.isoformat())
    assert proc.returncode == 1 and "mart_prefecture_summary" in proc.stderr and "Traceback" not in proc.stderr
    assert list(out.iterdir()) == [], "neither the quarter's directory nor the temporary one is left"


def test_an_incomplete_directory_is_refused_not_completed(served: Settings, tmp_path: Path) -> None:
    (tmp_path / QUARTER / "csv").mkdir(parents=True)
    proc = run_kouiki(served, "open-data", "--out", str(tmp_path), "--as-of", AS_OF.isoformat())
    assert proc.returncode == 1 and "SHA256SUMS" in proc.stderr and "Traceback" not in proc.stderr
    assert [p.name for p in (tmp_path / QUARTER).iterdir()] == ["csv"]


def test_the_command_writes_once_then_says_the_snapshot_exists(served: Settings, tmp_path: Path) -> None:
    out = tmp_path / "published"
    first = run_kouiki(served, "open-data", "--out", str(out), "--as-of", AS_OF.isoformat())
    assert first.returncode == 0, first.stderr
    assert f"wrote {out / QUARTER}" in first.stdout and "fct_investment: " in first.stdout
    assert re.search(r"1[34] tables, [\d,]+ rows", first.stdout)
    second = run_kouiki(served, "open-data", "--out", str(out), "--as-of", AS_OF.isoformat())
    assert second.returncode == 0 and "already complete" in second.stdout and "作成済み" in second.stdout


def test_the_default_place_is_under_the_data_directory(served: Settings, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copyfile(served.serving_path, data / "serving.duckdb")  # the published file, another data directory
    settings = settings_for(data, "127.0.0.1:9")
    proc = run_kouiki(settings, "open-data", "--as-of", AS_OF.isoformat())
    assert proc.returncode == 0, proc.stderr
    assert (settings.open_data_dir / QUARTER / "SHA256SUMS").exists()
    assert settings.open_data_dir == data / "open_data"


def test_without_a_serving_file_the_command_says_so_in_one_line(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data", "127.0.0.1:9")
    proc = run_kouiki(settings, "open-data", "--out", str(tmp_path / "out"))
    assert proc.returncode == 1 and proc.stdout == ""
    [line] = proc.stderr.splitlines()
    assert "公開用ファイル" in line and "no serving file yet" in line and "kouiki build" in line
    assert not (tmp_path / "out").exists()
