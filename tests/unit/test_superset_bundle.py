"""The committed Superset bundle is self-consistent: YAML parses, UUIDs follow the scheme and every
reference resolves, each dataset reads a dbt model, and dbt exposures mirror the dashboards."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from kouiki.services.superset import bundle, security
from tests.support.bundle import (
    ASSETS,
    DBT_PROJECT,
    dashboard_chart_uuids,
    dataset_tables,
    exposure_dashboards,
    load,
    uuids,
)

UUID_SCHEME = re.compile(r"^6b6f7569-6b69-4000-8000-0000000000([0-9a-f]{2})$")
KIND_PREFIX = {"databases": "0", "datasets": "1a", "dashboards": "3"}
CHART_PREFIXES = {"2", "4", "5", "6", "7", "8"}


def test_every_yaml_parses_and_has_the_importer_keys() -> None:
    required = {
        "databases": {"database_name", "sqlalchemy_uri", "uuid", "version", "extra"},
        "datasets": {"table_name", "schema", "uuid", "database_uuid", "version"},
        "charts": {"slice_name", "viz_type", "uuid", "version", "dataset_uuid", "params"},
        "dashboards": {"dashboard_title", "uuid", "version", "position"},
    }
    assert yaml.safe_load((ASSETS / "metadata.yaml").read_text())["type"] == "assets"
    for kind, keys in required.items():
        configs = load(kind)
        assert configs, kind
        for path, config in configs.items():
            assert keys <= set(config), f"{path.name} lacks {keys - set(config)}"


@pytest.mark.parametrize("kind", ["databases", "datasets", "charts", "dashboards"])
def test_uuids_follow_the_numbering_scheme_and_are_unique(kind: str) -> None:
    seen = [str(c["uuid"]) for c in load(kind).values()]
    assert len(seen) == len(set(seen))
    for uuid in seen:
        match = UUID_SCHEME.match(uuid)
        assert match, uuid
        prefix = match.group(1)[0]
        assert prefix in CHART_PREFIXES if kind == "charts" else prefix in KIND_PREFIX[kind], uuid


def test_every_reference_resolves() -> None:
    databases, datasets, charts = uuids("databases"), uuids("datasets"), uuids("charts")
    for config in load("datasets").values():
        assert config["database_uuid"] in databases
    for config in load("charts").values():
        assert config["dataset_uuid"] in datasets, config["slice_name"]
    for config in load("dashboards").values():
        assert dashboard_chart_uuids(config) <= charts, config["dashboard_title"]
        for native in config["metadata"]["native_filter_configuration"]:
            assert {t["datasetUuid"] for t in native["targets"]} <= datasets, native["name"]


def test_every_chart_is_on_a_dashboard_and_uses_its_datasets_metrics_and_columns() -> None:
    on_dashboards = set().union(*(dashboard_chart_uuids(d) for d in load("dashboards").values()))
    datasets = {c["uuid"]: c for c in load("datasets").values()}
    for config in load("charts").values():
        assert config["uuid"] in on_dashboards, config["slice_name"]
        dataset = datasets[config["dataset_uuid"]]
        metrics = {m["metric_name"] for m in dataset["metrics"]}
        columns = {c["column_name"] for c in dataset["columns"]}
        params = config["params"]
        used = [*params.get("metrics", []), *([params["metric"]] if "metric" in params else [])]
        assert {m for m in used if isinstance(m, str)} <= metrics, config["slice_name"]
        grouped = [
            *params.get("groupby", []),
            *params.get("all_columns", []),
            *([params["x_axis"]] if "x_axis" in params else []),
        ]
        assert set(grouped) <= columns, config["slice_name"]


def test_native_filters_target_existing_columns_and_skip_charts_without_them() -> None:
    datasets = {c["uuid"]: c for c in load("datasets").values()}
    charts = {c["uuid"]: c for c in load("charts").values()}
    for dashboard in load("dashboards").values():
        chart_ids = {
            n["meta"]["chartId"]: n["meta"]["uuid"]
            for n in dashboard["position"].values()
            if isinstance(n, dict) and n.get("type") == "CHART"
        }
        names = {f["name"] for f in dashboard["metadata"]["native_filter_configuration"]}
        assert "年度" in names, dashboard["dashboard_title"]
        for native in dashboard["metadata"]["native_filter_configuration"]:
            column = native["targets"][0]["column"]["name"]
            assert column in {c["column_name"] for c in datasets[native["targets"][0]["datasetUuid"]]["columns"]}
            for chart_id, uuid in chart_ids.items():
                has_column = column in {c["column_name"] for c in datasets[charts[uuid]["dataset_uuid"]]["columns"]}
                assert has_column != (chart_id in native["scope"]["excluded"]), (native["name"], uuid)


def test_titles_are_japanese() -> None:
    japanese = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    for kind, key in (("charts", "slice_name"), ("dashboards", "dashboard_title")):
        for config in load(kind).values():
            assert japanese.search(config[key]), config[key]


def test_no_secrets_or_machine_paths_in_the_bundle() -> None:
    for path in ASSETS.rglob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"password|secret|/(tmp|home|work)/", text, re.IGNORECASE), path
    for config in load("databases").values():
        assert config["sqlalchemy_uri"] == f"duckdb:///{bundle.SERVING_PLACEHOLDER}"
        assert config["extra"]["engine_params"]["connect_args"]["config"]["enable_external_access"] is False


def test_dbt_exposures_list_exactly_the_dashboards() -> None:
    files = {p.stem: c["slug"] for p, c in load("dashboards").items()}
    assert exposure_dashboards() == files


def test_models_named_by_datasets_are_dbt_models_in_the_project() -> None:
    """Cheap check without dbt: each dataset table is a .sql model file (the manifest check is in
    tests/integration/test_superset_assets.py)."""
    models = {p.stem for p in (DBT_PROJECT / "models").rglob("*.sql")}
    missing = sorted(t for _s, t in dataset_tables() if t not in models)
    assert not missing, f"datasets read tables that no dbt model builds: {missing}"


def test_security_lists_only_bundle_datasets_as_cabinet_only() -> None:
    assert security.CABINET_ONLY_DATASETS <= uuids("datasets")
    for config in load("datasets").values():
        if config["uuid"] not in security.CABINET_ONLY_DATASETS:
            columns = {c["column_name"] for c in config["columns"]}
            assert "consortium_code" in columns or config["table_name"] == "dim_prefecture", config["table_name"]


def test_chart_query_contexts_match_their_params() -> None:
    for config in load("charts").values():
        if config["viz_type"] == "country_map":
            continue  # legacy viz: data comes from explore_json, built from params
        context = json.loads(config["query_context"])
        assert context["form_data"] == config["params"], config["slice_name"]
