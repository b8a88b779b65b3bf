"""The Superset bundle against a real dbt project and a real Superset: datasets read dbt models
(manifest.json), the bundle survives an export → re-import round trip unchanged, Superset refuses an
insecure SECRET_KEY, and a secretariat sees only its own consortium whatever it asks for."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from kouiki.config import Settings
from kouiki.services.superset import api, bundle, deploy, process, security
from kouiki.warehouse.dbt import dbt
from tests.support.bundle import dataset_tables, exposure_dashboards, load

pytestmark = pytest.mark.integration
SECRETARIAT_PASSWORD = "kouiki-test-secretariat"  # test-only user in a throwaway Superset


def uuid(nn: str) -> str:
    return f"6b6f7569-6b69-4000-8000-0000000000{nn}"


# Bundle assets by uuid (superset_assets/charts/*.yaml, superset_assets/datasets/kouiki_serving/*.yaml)
PREFECTURE_TABLE_CHART = uuid("22")  # per-prefecture table over all consortia: Cabinet Office only
INVESTMENT_BY_CONSORTIUM_CHART = uuid("53")  # a secretariat's own chart, on rpt_investment_lines
PREFECTURE_SUMMARY_DATASET = uuid("11")  # mart_prefecture_summary: Cabinet Office only
FCT_INVESTMENT_DATASET = uuid("12")  # fct_investment: Cabinet Office only
INVESTMENT_LINES_DATASET = uuid("16")  # rpt_investment_lines: consortium-grained
CONSORTIUM_CHARTS = {  # chart uuid → dataset of consortium-grained rows
    INVESTMENT_BY_CONSORTIUM_CHART: "rpt_investment_lines",
    uuid("42"): "rpt_project_progress",  # progress_status_by_quarter
    uuid("76"): "rpt_project_progress",  # quality_freshness_by_consortium
}


@pytest.fixture(scope="module")
def settings(superset_settings: Settings) -> Settings:
    """The session's published sample warehouse, with its Superset's port (tests/conftest.py)."""
    return superset_settings


@pytest.fixture(scope="module")
def admin(superset_admin: api.ApiClient) -> api.ApiClient:
    """The session's running Superset over it (tests/conftest.py)."""
    return superset_admin


# --- dbt ----------------------------------------------------------------------------------------


def test_every_dataset_reads_a_model_in_the_dbt_manifest(settings: Settings) -> None:
    proc = dbt(settings, "parse")
    assert proc.returncode == 0, proc.stdout[-2000:]
    manifest = json.loads((settings.data_dir / "dbt" / "target" / "manifest.json").read_text())
    models = {(n["schema"], n["name"]) for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert dataset_tables() <= models, sorted(dataset_tables() - models)
    exposures = {e["name"] for e in manifest["exposures"].values() if e["type"] == "dashboard"}
    assert exposures == set(exposure_dashboards()) == {p.stem for p in load("dashboards")}


# --- Superset configuration --------------------------------------------------------------------


def superset_cli(settings: Settings, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    superset = settings.venv_executable(".venv-superset", "superset")
    return subprocess.run(
        [str(superset), "version"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize("key", [None, "CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET"])
def test_superset_refuses_to_start_without_a_real_secret_key(
    settings: Settings, tmp_path: Path, key: str | None
) -> None:
    env = process.superset_env(settings) | {"KOUIKI_SUPERSET_HOME": str(tmp_path)}
    env.pop("FLASK_DEBUG", None)
    if key is None:
        env.pop("SUPERSET_SECRET_KEY")
    else:
        env["SUPERSET_SECRET_KEY"] = key
    proc = superset_cli(settings, env, tmp_path)
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert ("KeyError: 'SUPERSET_SECRET_KEY'" if key is None else "insecure SECRET_KEY") in output


def test_default_language_is_japanese_and_english_is_selectable(settings: Settings, admin: api.ApiClient) -> None:
    client = api.admin_client(settings, legacy=True)
    page = client.session.get(f"{client.url}/superset/welcome/", timeout=60).text
    assert "&#34;locale&#34;: &#34;ja&#34;" in page or '"locale": "ja"' in page
    assert "/lang/en" in page
    pack = client.session.get(f"{client.url}/superset/language_pack/ja/", timeout=60).json()
    assert pack["locale_data"]["superset"]["%s record"] == ["%s 件"]  # the catalog ships "%s エラー"
    client.session.get(f"{client.url}/lang/en", timeout=60)
    page = client.session.get(f"{client.url}/superset/welcome/", timeout=60).text
    assert "&#34;locale&#34;: &#34;en&#34;" in page or '"locale": "en"' in page


def test_anonymous_users_get_nothing(admin: api.ApiClient) -> None:
    for path in ("/api/v1/chart/", "/api/v1/dashboard/", "/api/v1/dataset/"):
        assert requests.get(f"{admin.url}{path}", timeout=30).status_code == 401


# --- bundle round trip --------------------------------------------------------------------------


def snapshot(client: api.ApiClient) -> dict[str, Any]:
    """ids, uuids, titles and params of every bundle asset as Superset holds them."""
    state: dict[str, Any] = {}
    for kind, resource, title in (
        ("charts", "chart", "slice_name"),
        ("dashboards", "dashboard", "dashboard_title"),
        ("datasets", "dataset", "table_name"),
    ):
        for asset_uuid in bundle.bundle_uuids(kind):
            asset_id = client.id_by_uuid(resource, asset_uuid)
            saved = client.request_json("GET", f"/api/v1/{resource}/{asset_id}")["result"]
            params = saved.get("params") or saved.get("json_metadata") or ""
            state[asset_uuid] = {
                "id": asset_id,
                "title": saved[title],
                "params": params,
                "position": saved.get("position_json"),
            }
    return state


def test_export_then_reimport_changes_nothing(admin: api.ApiClient) -> None:
    before = snapshot(admin)
    ids = [admin.id_by_uuid("dashboard", u) for u in bundle.bundle_uuids("dashboards")]
    exported = admin.request("GET", "/api/v1/dashboard/export/", params={"q": f"!({','.join(map(str, ids))})"})
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        names = archive.namelist()
        exported_uuids = {
            str(yaml.safe_load(archive.read(n))["uuid"])
            for n in names
            if n.endswith(".yaml") and "/metadata.yaml" not in n
        }
    assert set(bundle.bundle_uuids("dashboards")) <= exported_uuids
    assert set(bundle.bundle_uuids("charts")) <= exported_uuids
    admin.request(
        "POST",
        "/api/v1/dashboard/import/",
        files={"formData": ("export.zip", exported.content)},
        data={"overwrite": "true"},
    )
    assert snapshot(admin) == before


# --- row-level security -------------------------------------------------------------------------


def secretariat(admin: api.ApiClient, code: str) -> api.ApiClient:
    username = f"test_{code.lower()}"
    security.ensure_user(admin, username, SECRETARIAT_PASSWORD, ["Gamma", security.secretariat_role(code)])
    client = api.ApiClient(admin.url)
    client.login(username, SECRETARIAT_PASSWORD)
    return client


def codes_in(rows: list[dict[str, Any]]) -> set[str]:
    return {r["consortium_code"] for r in rows}


def context_for(admin: api.ApiClient, chart_uuid: str) -> dict[str, Any]:
    saved = admin.chart(chart_uuid)
    return dict(json.loads(saved["query_context"]))


def post_chart_data(client: api.ApiClient, context: dict[str, Any]) -> list[dict[str, Any]]:
    result = client.request_json("POST", "/api/v1/chart/data", json=context | {"force": True})
    return list(result["result"][0]["data"])


def test_security_is_idempotent(settings: Settings, admin: api.ApiClient) -> None:
    first = security.apply_security(settings)
    assert security.apply_security(settings) == first
    rls = admin.request_json("GET", "/api/v1/rowlevelsecurity/", params={"q": "(page_size:100)"})
    names = [r["name"] for r in rls["result"]]
    assert len(names) == len(set(names)) == len(first["secretariat_roles"]) + 1


def test_after_a_publish_only_consortia_not_set_up_yet_are_set_up(settings: Settings, admin: api.ApiClient) -> None:
    """What every publish runs (``only_new``): a consortium new to the serving file gets its role,
    its filter and its exemption from the deny-by-default filter; the others are left alone."""
    security.apply_security(settings)
    assert security.apply_security(settings, only_new=True)["secretariat_roles"] == {}  # nothing new
    newcomer = security.consortium_codes(settings.serving_path)[-1]
    role_id = security.role_ids(admin)[security.secretariat_role(newcomer)]
    rls = admin.request_json("GET", "/api/v1/rowlevelsecurity/", params={"q": "(page_size:100)"})["result"]
    (own_filter,) = [r["id"] for r in rls if r["name"] == security.rls_name(newcomer)]
    admin.request("DELETE", f"/api/v1/rowlevelsecurity/{own_filter}")
    admin.request("DELETE", f"/api/v1/security/roles/{role_id}")  # as if the consortium had just registered

    added = security.apply_security(settings, only_new=True)["secretariat_roles"]
    assert list(added) == [newcomer]
    rls = admin.request_json("GET", "/api/v1/rowlevelsecurity/", params={"q": "(page_size:100)"})["result"]
    deny = admin.request_json(
        "GET", f"/api/v1/rowlevelsecurity/{next(r['id'] for r in rls if r['name'] == security.DENY_BY_DEFAULT_FILTER)}"
    )
    assert added[newcomer] in {role["id"] for role in deny["result"]["roles"]}
    context = context_for(admin, INVESTMENT_BY_CONSORTIUM_CHART)
    for query in context["queries"]:
        query["columns"], query["orderby"], query["post_processing"] = ["consortium_code"], [], []
    assert codes_in(post_chart_data(secretariat(admin, newcomer), context)) == {newcomer}


def test_secretariat_chart_data_holds_only_its_consortium(settings: Settings, admin: api.ApiClient) -> None:
    codes = security.consortium_codes(settings.serving_path)
    own = codes[0]
    client = secretariat(admin, own)
    for chart_uuid in CONSORTIUM_CHARTS:
        context = context_for(admin, chart_uuid)
        for query in context["queries"]:
            query["columns"] = ["consortium_code"]
            query["orderby"] = []
            query["post_processing"] = []
        assert codes_in(post_chart_data(admin, context)) == set(codes), chart_uuid
        assert codes_in(post_chart_data(client, context)) == {own}, chart_uuid


def test_secretariat_cannot_widen_its_filters(settings: Settings, admin: api.ApiClient) -> None:
    codes = security.consortium_codes(settings.serving_path)
    own, other = codes[0], codes[1]
    client = secretariat(admin, own)
    context = context_for(admin, INVESTMENT_BY_CONSORTIUM_CHART)
    query = context["queries"][0]
    query.update(columns=["consortium_code"], orderby=[])
    assert codes_in(post_chart_data(client, context | {"queries": [query]})) == {own}  # the query answers
    attempts = [  # (widening attempt, the consortium codes it may answer with: the own one at most)
        ({"filters": [{"col": "consortium_code", "op": "==", "val": other}]}, set()),
        ({"filters": [{"col": "consortium_code", "op": "IN", "val": codes}]}, {own}),
        ({"extras": {"where": f"consortium_code = '{other}' OR 1 = 1", "having": ""}}, {own}),
        ({"extras": {"where": "1 = 1) OR (1 = 1", "having": ""}}, {own}),
    ]
    for attempt, expected in attempts:
        try:
            rows = post_chart_data(client, context | {"queries": [query | attempt]})
        except process.SupersetError:
            continue  # rejected outright is fine too
        assert codes_in(rows) == expected, attempt


def test_secretariat_cannot_read_cabinet_only_charts_or_datasets(settings: Settings, admin: api.ApiClient) -> None:
    client = secretariat(admin, security.consortium_codes(settings.serving_path)[0])
    with pytest.raises(process.SupersetError, match="403|404|not found"):
        client.chart_data(PREFECTURE_TABLE_CHART)  # per-prefecture table over all consortia: not even listed
    summary = admin.id_by_uuid("dataset", PREFECTURE_SUMMARY_DATASET)
    context = context_for(admin, PREFECTURE_TABLE_CHART) | {"datasource": {"id": summary, "type": "table"}}
    with pytest.raises(process.SupersetError, match="403"):
        post_chart_data(client, context)
    # the secretariat's own chart pointed at another dataset id is refused too
    fct_investment = admin.id_by_uuid("dataset", FCT_INVESTMENT_DATASET)
    context = context_for(admin, INVESTMENT_BY_CONSORTIUM_CHART) | {
        "datasource": {"id": fct_investment, "type": "table"}
    }
    with pytest.raises(process.SupersetError, match="403"):
        post_chart_data(client, context)
    with pytest.raises(process.SupersetError, match="403|401"):
        client.request_json(
            "POST", "/api/v1/sqllab/execute/", json={"database_id": 1, "sql": "select 1", "runAsync": False}
        )


def test_a_user_without_a_kouiki_role_sees_no_rows(settings: Settings, admin: api.ApiClient) -> None:
    """Gamma plus dataset access but no Kouiki role: the Base filter leaves nothing."""
    roles = security.role_ids(admin)
    reader = security.ensure_role(admin, "test_plain_reader", roles)
    dataset = admin.id_by_uuid("dataset", INVESTMENT_LINES_DATASET)
    security.set_role_permissions(admin, reader, security.datasource_access_ids(admin, [dataset]))
    security.ensure_user(admin, "test_plain", SECRETARIAT_PASSWORD, ["Gamma", "test_plain_reader"])
    client = api.ApiClient(admin.url)
    client.login("test_plain", SECRETARIAT_PASSWORD)
    assert post_chart_data(client, context_for(admin, INVESTMENT_BY_CONSORTIUM_CHART)) == []


def test_cabinet_office_reads_every_dashboard(settings: Settings, admin: api.ApiClient) -> None:
    security.ensure_user(admin, "test_cabinet", SECRETARIAT_PASSWORD, ["Gamma", security.CABINET_ROLE])
    client = api.ApiClient(admin.url)
    client.login("test_cabinet", SECRETARIAT_PASSWORD)
    listed = client.request_json("GET", "/api/v1/dashboard/", params={"q": "(page_size:100)"})["result"]
    assert {d["slug"] for d in listed} == {c["slug"] for c in load("dashboards").values()}
    assert len(client.chart_data(PREFECTURE_TABLE_CHART, filters={"fiscal_year": 2025})) == 47


def test_reimport_keeps_security(settings: Settings, admin: api.ApiClient) -> None:
    bundle.import_assets(settings)
    deploy.bootstrap(settings)
    client = secretariat(admin, security.consortium_codes(settings.serving_path)[0])
    context = context_for(admin, INVESTMENT_BY_CONSORTIUM_CHART)
    assert len(codes_in(post_chart_data(client, context))) == 1
