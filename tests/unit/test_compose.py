"""docker-compose.yml without a Docker engine: valid against the vendored Compose specification
schema, and everything it points at exists (build contexts, Dockerfiles and what they COPY, mounted
host paths, every ${VAR} in .env.example, which holds placeholders only)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft201909Validator

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
SCHEMA = REPO / "infra" / "compose-spec" / "compose_spec.json"
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}, $VAR; $$ is a literal dollar.
VARIABLE = re.compile(r"(?<!\$)\$(?:\{(?P<braced>[A-Za-z_]\w*)[^}]*\}|(?P<bare>[A-Za-z_]\w*))")
ONE_SHOT = {"kafka-init", "airflow-init", "superset-init", "kouiki_lander"}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|CLUSTER_ID")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(compose["services"])


def env_example() -> dict[str, str]:
    pairs = [
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    return {name.strip(): value.strip().strip('"') for name, value in pairs}


def test_schema_is_the_vendored_compose_spec() -> None:
    schema = json.loads(SCHEMA.read_text())
    Draft201909Validator.check_schema(schema)
    assert schema["id"] == "compose_spec.json"
    assert (SCHEMA.parent / "LICENSE").read_text().lstrip().startswith("Apache License")


def test_compose_file_is_valid_against_the_compose_spec(compose: dict[str, Any]) -> None:
    validator = Draft201909Validator(json.loads(SCHEMA.read_text()))
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_the_platform_services_are_there(services: dict[str, dict[str, Any]]) -> None:
    assert {
        "broker",
        "kafka-init",
        "postgres",
        "airflow-init",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "superset-init",
        "superset",
        "kouiki_lander",
    } <= set(services)
    assert not {"redis", "airflow-worker", "flower"} & set(services)  # LocalExecutor: no Celery
    assert services["broker"]["image"].split(":-")[-1].startswith("apache/kafka:")
    assert services["airflow-scheduler"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"


def test_kafka_runs_kraft_with_internal_and_host_listeners(services: dict[str, dict[str, Any]]) -> None:
    env = services["broker"]["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    assert "INTERNAL://broker:29092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert "HOST://localhost:${KAFKA_HOST_PORT:-9092}" in env["KAFKA_ADVERTISED_LISTENERS"]
    init = " ".join(services["kafka-init"]["command"])
    assert all(t in init for t in ("kouiki.registry.v1:3", "kouiki.reports.v1:3", "kouiki.deadletter.v1:1"))


def test_long_running_services_have_health_checks(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if name in ONE_SHOT or service.get("profiles"):
            assert service.get("restart", "no") == "no" or service.get("profiles"), name
            continue
        assert "healthcheck" in service, f"{name} has no healthcheck"


def test_depends_on_uses_conditions_on_existing_services(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for dependency, spec in service.get("depends_on", {}).items():
            assert dependency in services and dependency != name, f"{name} -> {dependency}"
            assert spec["condition"] in {"service_healthy", "service_completed_successfully"}, f"{name} -> {dependency}"
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{dependency} is waited on but has no healthcheck"
            else:
                assert dependency in ONE_SHOT, f"{dependency} is waited on to finish but is not a one-shot"
    assert services["airflow-scheduler"]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    assert services["superset"]["depends_on"]["superset-init"]["condition"] == "service_completed_successfully"


def test_published_ports_bind_to_loopback(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"


def test_build_contexts_dockerfiles_and_copied_paths_exist(services: dict[str, dict[str, Any]]) -> None:
    dockerfiles = set()
    for service in services.values():
        if "build" in service:
            context = REPO / service["build"]["context"]
            assert context.is_dir()
            dockerfiles.add(context / service["build"]["dockerfile"])
    assert {p.name for p in dockerfiles} == {"airflow.Dockerfile", "superset.Dockerfile"}
    for dockerfile in dockerfiles:
        assert dockerfile.is_file() and dockerfile.parent == REPO / "infra" / "docker"
        for line in dockerfile.read_text().splitlines():
            if line.startswith("COPY "):
                for source in line.split()[1:-1]:
                    assert (REPO / source).exists(), f"{dockerfile.name} copies missing {source}"
        lock_files = re.findall(r"requirements/[\w.-]+\.lock\.txt", dockerfile.read_text())
        assert lock_files and all((REPO / f).is_file() for f in lock_files)


def test_mounted_host_paths_exist_and_named_volumes_are_declared(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    declared = set(compose.get("volumes", {}))
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume["source"]
            if source.startswith((".", "/")):
                assert (REPO / source).exists(), f"{name} mounts missing host path {source}"
            else:
                assert source in declared, f"{name} uses undeclared volume {source}"


def test_every_variable_is_in_env_example_and_every_example_is_used() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    used = {m["braced"] or m["bare"] for m in VARIABLE.finditer(text)}
    examples = env_example()
    assert used - set(examples) == set(), "variables missing from .env.example"
    assert set(examples) - used == set(), ".env.example has variables docker-compose.yml does not use"


def test_env_example_holds_placeholders_not_secrets() -> None:
    for name, value in env_example().items():
        if SECRET_NAME.search(name):
            assert value.startswith("change-me"), f"{name} must be a change-me placeholder in .env.example"
    assert ".env" in (REPO / ".gitignore").read_text().splitlines()
    assert not (REPO / ".env").exists() or ".env" not in _tracked_files()


def _tracked_files() -> set[str]:
    import subprocess

    return set(subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True).stdout.split())


def test_airflow_services_share_one_anchor_and_the_data_volume(services: dict[str, dict[str, Any]]) -> None:
    airflow = [s for n, s in services.items() if n.startswith("airflow-") or n == "kouiki_lander"]
    assert len({json.dumps(s["environment"], sort_keys=True) for s in airflow}) == 1  # x-airflow-common
    for service in airflow:
        assert "kouiki-data:/data" in service["volumes"]
    assert "kouiki-data:/data:ro" in services["superset"]["volumes"]  # readers never write the lake
