"""docker-compose.yml without a Docker engine: valid against the vendored Compose specification schema,
everything it points at exists, and it keeps the local platform's promises in production — roles and
row-level security applied to every Superset, metadata in PostgreSQL (never SQLite), secrets only from
.env with no defaults, SASL on every Kafka listener with ACLs per principal, FAB login and a Fernet key
for Airflow, alerts by e-mail, ports on 127.0.0.1 unless the operator says otherwise, and a health
check, restart policy and resource limits on every service.

The images cannot be built or run here (no Docker engine); the parts that can run on this machine are
tested for real elsewhere: `kouiki superset configure` against a real Superset
(tests/integration/test_superset_configure.py), Superset's production mode against PostgreSQL and
Redis with a Celery worker sending a report e-mail (test_superset_production.py), the database set-up
script against PostgreSQL (test_compose_postgres_init.py) and e-mailed failure alerts from a real
Airflow task (test_failure_alert_email.py)."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft201909Validator

from kouiki.config import PROJECT_FOLDERS, Settings
from kouiki.messaging import clients
from kouiki.orchestration.intake_trigger import CONN_ID, CONSUMER_GROUP, connection_variable

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
SCHEMA = REPO / "infra" / "compose-spec" / "compose_spec.json"
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}, $VAR; $$ is a literal dollar.
VARIABLE = re.compile(
    r"(?<!\$)\$(?:\{(?P<braced>[A-Za-z_]\w*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|(?P<bare>[A-Za-z_]\w*))"
)
ONE_SHOT = {"postgres-init", "kafka-init", "airflow-init", "superset-init", "superset-security", "kouiki-cli"}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|_KEY$|CLUSTER_ID|JAAS|^AIRFLOW_CONN_")
# An SMTP relay may need no login: these two may be empty, never a value written here.
OPTIONAL_SECRETS = {"SMTP_USER", "SMTP_PASSWORD"}
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
SUPERSET_APP = "superset.app:create_app()"
INTAKE_TOPICS = {"kouiki.reports.v1", "kouiki.registry.v1"}
DEADLETTER_TOPIC = "kouiki.deadletter.v1"


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


def interpolated(value: Any, env: dict[str, str] | None = None) -> str:
    """``value`` as Docker Compose would pass it on, with .env.example as .env."""
    values = env_example() if env is None else env

    def one(match: re.Match[str]) -> str:
        name = match["braced"] or match["bare"]
        found = values.get(name, "")
        if not found and match["op"] in (":-", "-"):
            return match["arg"]
        return found

    return VARIABLE.sub(one, str(value)).replace("$$", "$")


def environment(service: dict[str, Any]) -> dict[str, str]:
    return {k: interpolated(v) for k, v in service.get("environment", {}).items()}


def settings_of(service: dict[str, Any]) -> Settings:
    """The Kouiki settings a container of ``service`` starts with."""
    return Settings.from_env(environment(service))


def command_of(service: dict[str, Any]) -> list[str]:
    return [*service.get("entrypoint", []), *service.get("command", [])]


# --- the file itself ------------------------------------------------------------------------------


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
        "postgres",
        "postgres-init",
        "redis",
        "broker",
        "kafka-init",
        "airflow-init",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "portal",
        "superset-init",
        "superset",
        "superset-security",
        "superset-worker",
        "superset-beat",
        "kouiki-cli",
    } == set(services)
    assert services["broker"]["image"].split(":-")[-1].startswith("apache/kafka:")
    assert services["airflow-scheduler"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"


def test_every_service_has_a_restart_policy_and_resource_limits(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        limits = service.get("deploy", {}).get("resources", {}).get("limits", {})
        assert limits.get("cpus") and limits.get("memory"), f"{name} has no CPU and memory limits"
        if name in ONE_SHOT:
            assert service["restart"] in {"no", "on-failure:5"}, name
        else:
            assert service["restart"] == "unless-stopped", name


def test_long_running_services_have_health_checks(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if name not in ONE_SHOT:
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


def test_published_ports_listen_on_loopback_unless_the_operator_says_otherwise(
    services: dict[str, dict[str, Any]],
) -> None:
    published = 0
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("${BIND_ADDRESS:-127.0.0.1}:"), f"{name} publishes {port}"
            assert interpolated(port).startswith("127.0.0.1:"), f"{name} publishes {port}"
            published += 1
    assert published == 4  # broker (host listener), Airflow, Superset, portal
    assert env_example()["BIND_ADDRESS"] == "127.0.0.1"


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
    built = {s["image"] for s in services.values() if "build" in s}
    for name, service in services.items():  # an image no service builds would be pulled, and fail
        if str(service["image"]).startswith("kouiki-"):
            assert service["image"] in built, name


def test_the_platform_image_holds_the_whole_checkout_the_package_looks_for() -> None:
    """kouiki.config.default_project_root wants every project folder beside the installed package."""
    dockerfile = (REPO / "infra" / "docker" / "airflow.Dockerfile").read_text()
    allowed = (REPO / "infra" / "docker" / "airflow.Dockerfile.dockerignore").read_text().splitlines()
    assert "WORKDIR /opt/kouiki" in dockerfile and "-e ." in dockerfile  # editable: the checkout is /opt/kouiki
    for folder in PROJECT_FOLDERS:
        assert f"COPY {folder}/ {folder}/" in dockerfile, folder
        assert f"!{folder}/" in allowed, f"{folder} is left out of the build context"


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


# --- secrets --------------------------------------------------------------------------------------


def test_every_variable_is_in_env_example_and_every_example_is_used() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    used = {m["braced"] or m["bare"] for m in VARIABLE.finditer(text)}
    examples = env_example()
    assert used - set(examples) == set(), "variables missing from .env.example"
    assert set(examples) - used == set(), ".env.example has variables docker-compose.yml does not use"


def test_env_example_holds_placeholders_not_secrets() -> None:
    for name, value in env_example().items():
        if SECRET_NAME.search(name) and name not in OPTIONAL_SECRETS:
            assert value.startswith("change-me"), f"{name} must be a change-me placeholder in .env.example"
    assert ".env" in (REPO / ".gitignore").read_text().splitlines()
    assert not (REPO / ".env").exists() or ".env" not in _tracked_files()


def test_secrets_come_only_from_env_and_have_no_defaults(services: dict[str, dict[str, Any]]) -> None:
    """Every secret a service gets is a ${VAR:?...} of .env: never a value written in the file, never
    a default that would start a deployment with a known password."""
    text = COMPOSE.read_text(encoding="utf-8")
    for match in VARIABLE.finditer(text):
        name = match["braced"] or match["bare"]
        if SECRET_NAME.search(name):
            if name in OPTIONAL_SECRETS:
                assert match["op"] == ":-" and match["arg"] == "", f"{name} may be empty, never defaulted"
            else:
                assert match["op"] == ":?", f"${{{name}}} must be required (:?), not {match.group(0)}"
    for name, service in services.items():
        for key, value in service.get("environment", {}).items():
            if not SECRET_NAME.search(key) or key == "KOUIKI_DATABASES":
                continue
            if "JAAS" in key and "password" not in str(value):
                continue  # a login module with no credentials of its own (SCRAM's users live in Kafka)
            assert "${" in str(value), f"{name}: {key} is written in the file"
        assert "SIMPLE_AUTH_MANAGER" not in json.dumps(service), f"{name} still configures the Simple auth manager"
    assert "admin:admin" not in text


def _tracked_files() -> set[str]:
    return set(subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True).stdout.split())


# --- metadata databases ---------------------------------------------------------------------------


def test_no_service_keeps_metadata_in_sqlite(services: dict[str, dict[str, Any]]) -> None:
    """Airflow's and Superset's metadata and the identity store are databases of the postgres service,
    each with its own role, created by postgres-init."""
    created = {
        tuple(spec.split(":")[:2]) for spec in services["postgres-init"]["environment"]["KOUIKI_DATABASES"].split()
    }
    assert created == {("airflow", "airflow"), ("superset", "superset"), ("kouiki", "kouiki")}
    urls = {}
    for name, service in services.items():
        env = environment(service)
        assert "sqlite" not in json.dumps(env).lower(), name
        for key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "KOUIKI_SUPERSET_DB_URL", "KOUIKI_IDENTITY_DB_URL"):
            if key in env:
                urls.setdefault(key, set()).add(env[key])
    users_and_databases = set()
    for key, found in urls.items():
        assert len(found) == 1, f"{key} differs between services"
        (url,) = found
        match = re.fullmatch(r"postgresql(\+psycopg2)?://(\w+):[^@]+@postgres:5432/(\w+)", url)
        assert match, f"{key}={url}"
        users_and_databases.add((match[2], match[3]))
    assert users_and_databases == created
    for name, service in services.items():
        if SUPERSET_APP in command_of(service) or "celery" in command_of(service)[:1] or name == "superset-init":
            assert environment(service)["KOUIKI_SUPERSET_DB_URL"].startswith("postgresql"), name
        if "KOUIKI_DATA_DIR" in service.get("environment", {}):
            assert environment(service)["KOUIKI_IDENTITY_DB_URL"].startswith("postgresql"), name


# --- Superset -------------------------------------------------------------------------------------


def test_every_superset_server_gets_kouiki_roles_and_row_level_security(services: dict[str, dict[str, Any]]) -> None:
    """What `kouiki up` applies (kouiki.services.superset.deploy.configure) reaches each Superset: once it
    is healthy, by a one-shot of `kouiki superset configure`, and after every publish, by Airflow."""
    servers = [name for name, s in services.items() if SUPERSET_APP in command_of(s)]
    assert servers == ["superset"]
    for server in servers:
        url = f"http://{server}:8088"
        appliers = [
            name
            for name, s in services.items()
            if command_of(s) == ["kouiki", "superset", "configure"] and environment(s)["KOUIKI_SUPERSET_URL"] == url
        ]
        assert appliers, f"nothing applies roles and row-level security to {server}"
        for applier in appliers:
            assert services[applier]["depends_on"][server]["condition"] == "service_healthy"
            assert settings_of(services[applier]).admin_password  # logs in as the admin superset-init creates
        assert environment(services["airflow-scheduler"])["KOUIKI_SUPERSET_URL"] == url  # the after-publish refresh


def test_superset_runs_alerts_and_reports_with_celery_on_redis_and_smtp(services: dict[str, dict[str, Any]]) -> None:
    celery = ["celery", "--app=superset.tasks.celery_app:app"]
    workers = [n for n, s in services.items() if command_of(s)[:3] == [*celery, "worker"]]
    beats = [n for n, s in services.items() if command_of(s)[:3] == [*celery, "beat"]]
    assert workers == ["superset-worker"] and beats == ["superset-beat"]  # one beat, or reports run twice
    for name in ["superset", "superset-init", *workers, *beats]:
        env = environment(services[name])
        assert re.fullmatch(r"redis://:[^@]+@redis:6379/\d+", env["KOUIKI_SUPERSET_REDIS_URL"]), name
        assert env["KOUIKI_SMTP_HOST"] and env["KOUIKI_SMTP_FROM"], name
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "--requirepass" in " ".join(command_of(services["redis"]))


def test_the_portal_is_a_service(services: dict[str, dict[str, Any]]) -> None:
    portal = services["portal"]
    assert "kouiki.gateway.app:create_app" in command_of(portal)
    assert "/healthz" in json.dumps(portal["healthcheck"])
    settings = settings_of(portal)
    assert settings.portal_secure_cookies
    assert settings.kafka_username == "gateway"
    assert settings.identity_db_url.startswith("postgresql")


# --- Airflow --------------------------------------------------------------------------------------


def test_airflow_logs_in_with_fab_and_encrypts_with_a_fernet_key(services: dict[str, dict[str, Any]]) -> None:
    airflow = [s for n, s in services.items() if n.startswith("airflow-")]
    for service in airflow:
        env = service["environment"]
        assert env["AIRFLOW__CORE__AUTH_MANAGER"] == FAB_AUTH_MANAGER
        assert env["AIRFLOW__CORE__FERNET_KEY"].startswith("${AIRFLOW_FERNET_KEY:?")
    module, _, name = FAB_AUTH_MANAGER.rpartition(".")
    assert getattr(importlib.import_module(module), name)  # the provider is in the platform lock


def test_failed_tasks_are_emailed(services: dict[str, dict[str, Any]]) -> None:
    settings = settings_of(services["airflow-scheduler"])
    assert settings.alert_emails and settings.smtp_host and settings.smtp_from
    assert services["airflow-scheduler"]["environment"]["KOUIKI_ALERT_EMAILS"].startswith("${KOUIKI_ALERT_EMAILS:?")


def test_airflow_services_share_one_anchor_and_the_data_volume(services: dict[str, dict[str, Any]]) -> None:
    airflow = [s for n, s in services.items() if n.startswith("airflow-") or n == "kouiki-cli"]
    assert len({json.dumps(s["environment"], sort_keys=True) for s in airflow}) == 1  # x-airflow-common
    for service in airflow:
        assert "kouiki-data:/data" in service["volumes"]
    assert "kouiki-data:/data:ro" in services["superset"]["volumes"]  # readers never write the lake


# --- Kafka ----------------------------------------------------------------------------------------


def test_every_kafka_listener_requires_sasl_and_acls_decide(services: dict[str, dict[str, Any]]) -> None:
    env = environment(services["broker"])
    protocols = dict(pair.split(":") for pair in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    listeners = {spec.split("://")[0] for spec in env["KAFKA_LISTENERS"].split(",")}
    assert listeners == set(protocols)
    assert all(p.startswith("SASL_") for p in protocols.values()), protocols
    assert env["KAFKA_AUTHORIZER_CLASS_NAME"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert env.get("KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND", "false") == "false"
    assert env["KAFKA_SUPER_USERS"] == "User:broker"


def test_every_kafka_client_in_compose_authenticates(services: dict[str, dict[str, Any]]) -> None:
    """Each service reaching the broker gets SASL settings the platform's clients take up, as its own
    principal; the Airflow trigger's connection is the one the code builds, with Kafka's group timings."""
    principals = {}
    for name, service in services.items():
        if "KOUIKI_BOOTSTRAP_SERVERS" in service.get("environment", {}):
            settings = settings_of(service)
            security = clients.librdkafka_security(settings)
            assert security["security.protocol"] == "SASL_PLAINTEXT", name
            principals[name] = settings.kafka_username
    assert principals["portal"] == "gateway"
    assert {principals[n] for n in principals if n.startswith("airflow-")} == {"lander"}
    trigger_env = environment(services["airflow-triggerer"])
    in_compose = json.loads(trigger_env[f"AIRFLOW_CONN_{CONN_ID.upper()}"])["extra"]
    (from_code,) = connection_variable(settings_of(services["airflow-triggerer"])).values()
    expected = json.loads(from_code)["extra"]
    for timing in ("session.timeout.ms", "heartbeat.interval.ms"):  # Apache Kafka refuses sessions under 6 s
        expected.pop(timing)
    assert in_compose == expected
    assert in_compose["group.id"] == CONSUMER_GROUP


def test_the_tls_override_turns_only_the_host_listener_to_sasl_ssl(services: dict[str, dict[str, Any]]) -> None:
    class ComposeLoader(yaml.SafeLoader):
        """Docker Compose v2's !override tag: replace a value instead of merging into it."""

    ComposeLoader.add_constructor("!override", lambda loader, node: loader.construct_sequence(node))
    tls = yaml.load((REPO / "docker-compose.tls.yml").read_text(encoding="utf-8"), Loader=ComposeLoader)  # noqa: S506
    base = services["broker"]["environment"]
    merged = base | tls["services"]["broker"]["environment"]
    protocols = dict(pair.split(":") for pair in merged["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    before = dict(pair.split(":") for pair in base["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert protocols == before | {"HOST": "SASL_SSL"}
    assert merged["KAFKA_LISTENER_NAME_HOST_SSL_KEYSTORE_LOCATION"] == "/run/secrets/kafka_host_keystore"
    assert tls["secrets"]["kafka_host_keystore"]["file"].startswith("${KAFKA_TLS_KEYSTORE_FILE:?")
    assert [str(p).split(":-")[1].startswith("127.0.0.1}") for p in tls["services"]["broker"]["ports"]] == [True]
