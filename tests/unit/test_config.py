"""Configuration lives in one place: every KOUIKI_* setting is a field of config.Settings, the README's
table is the one generated from it, and the package finds its checkout or says how to point at it."""

from __future__ import annotations

import ast
import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kouiki.config import ConfigError, Settings, markdown_table

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "streams" / "kouiki"
# Read by the Superset process from its own config file, not a Kouiki setting.
NOT_SETTINGS = {"KOUIKI_SUPERSET_HOME"}


def test_readme_configuration_table_is_the_generated_one() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme, "regenerate it: .venv/bin/python -m kouiki.config"


def test_no_module_reads_a_setting_from_the_environment_but_config() -> None:
    env_names = {f.metadata["env"] for f in dataclasses.fields(Settings)}
    for path in PACKAGE.rglob("*.py"):
        if path.name == "config.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
                raise AssertionError(f"{path}:{node.lineno}: os.environ[...] outside config.py")
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("os.environ.get", "os.getenv"):
                raise AssertionError(f"{path}:{node.lineno}: {ast.unparse(node)} outside config.py")
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("KOUIKI_"):
                assert node.value in env_names | NOT_SETTINGS, f"{path}:{node.lineno}: {node.value} is not in Settings"


def test_every_variable_is_parsed_into_its_field() -> None:
    environ = {
        "KOUIKI_BOOTSTRAP_SERVERS": "127.0.0.1:19092",
        "KOUIKI_DATA_DIR": "/srv/kouiki-config-test",
        "KOUIKI_LANDER_BATCH": "40",
        "KOUIKI_QUALITY_MAX_LAKE_AGE_HOURS": "12.5",
        "KOUIKI_VENV_DBT_BIN": "/opt/dbt/bin",
        "KOUIKI_AIRFLOW_PORT": "",  # empty means unset
    }
    settings = Settings.from_env(environ)
    assert settings.bootstrap_servers == "127.0.0.1:19092"
    assert settings.data_dir == Path("/srv/kouiki-config-test")
    assert settings.lander_batch == 40
    assert settings.quality_max_lake_age_hours == 12.5
    assert settings.venv_executable(".venv-dbt", "dbt") == Path("/opt/dbt/bin/dbt")
    assert settings.airflow_port == 8080


def test_a_bad_number_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="KOUIKI_LANDER_BATCH='many'"):
        Settings.from_env({"KOUIKI_LANDER_BATCH": "many"})


def test_environment_round_trips() -> None:
    settings = Settings(bootstrap_servers="127.0.0.1:1", data_dir=REPO / "data", lander_batch=7, airflow_port=1234)
    again = Settings.from_env(settings.environment())
    assert again.lander_batch == 7 and again.airflow_port == 1234
    assert again.data_dir == settings.data_dir.resolve() and again.project_root == REPO


def _copy_of_package(tmp_path: Path) -> Path:
    """The package alone, as a non-editable install puts it: no checkout around it."""
    site = tmp_path / "site"
    shutil.copytree(PACKAGE, site / "kouiki", ignore=shutil.ignore_patterns("__pycache__"))
    return site


def _project_root(site: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    code = "from kouiki.config import Settings; print(Settings.from_env().project_root)"
    environ = {k: v for k, v in os.environ.items() if k != "KOUIKI_PROJECT_DIR"} | {"PYTHONPATH": str(site)} | env
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=environ, capture_output=True, text=True, check=False, timeout=60
    )


def test_an_installed_package_finds_the_checkout_from_the_working_directory_or_the_variable(tmp_path: Path) -> None:
    site = _copy_of_package(tmp_path)
    assert _project_root(site, cwd=REPO).stdout.strip() == str(REPO)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert _project_root(site, cwd=elsewhere, KOUIKI_PROJECT_DIR=str(REPO)).stdout.strip() == str(REPO)


def test_an_installed_package_without_a_checkout_says_how_to_point_at_it(tmp_path: Path) -> None:
    site = _copy_of_package(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = _project_root(site, cwd=elsewhere)
    assert proc.returncode != 0
    assert "set KOUIKI_PROJECT_DIR" in proc.stderr
