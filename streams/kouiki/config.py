"""Every setting of the platform, read from the environment in one place: :meth:`Settings.from_env`.

Each field names its environment variable, its default and what it is for; the README's
configuration table is generated from this list (``python -m kouiki.config``) and a test keeps the
two equal. Nothing else in the package reads the environment for a setting. Services the platform
starts (Airflow, dbt, Superset, the DAG tasks) get the same values back through :meth:`Settings.environment`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
PROJECT_FOLDERS = ("dbt_project", "superset_assets", "dags", "infra")


class ConfigError(RuntimeError):
    """A setting is missing or unusable."""


def _var(name: str, doc: str, default_doc: str | None = None) -> dict[str, Any]:
    return {"env": name, "doc": doc, "default_doc": default_doc}


@dataclass(frozen=True)
class Settings:
    """The platform's settings. Construct with keywords in tests; ``from_env`` everywhere else."""

    bootstrap_servers: str = field(
        default="127.0.0.1:9092", metadata=_var("KOUIKI_BOOTSTRAP_SERVERS", "Kafka bootstrap servers")
    )
    kafka_security_protocol: str = field(
        default="PLAINTEXT",
        metadata=_var(
            "KOUIKI_KAFKA_SECURITY_PROTOCOL",
            "`PLAINTEXT` (the local broker), `SASL_PLAINTEXT` or `SASL_SSL` (the production broker of"
            " docker-compose.yml)",
        ),
    )
    kafka_sasl_mechanism: str = field(
        default="SCRAM-SHA-512",
        metadata=_var("KOUIKI_KAFKA_SASL_MECHANISM", "SASL mechanism when the security protocol is SASL_*"),
    )
    kafka_username: str = field(
        default="",
        metadata=_var("KOUIKI_KAFKA_USERNAME", "this process's Kafka principal (SASL/SCRAM user)", "none"),
    )
    kafka_password: str = field(
        default="", repr=False, metadata=_var("KOUIKI_KAFKA_PASSWORD", "its SCRAM password", "none")
    )
    kafka_ca_file: str = field(
        default="",
        metadata=_var(
            "KOUIKI_KAFKA_CA_FILE",
            "CA certificate (PEM) the broker's TLS certificate is checked against",
            "the system CAs",
        ),
    )
    data_dir: Path = field(
        default=Path("data"),
        metadata=_var(
            "KOUIKI_DATA_DIR", "lake, warehouse, serving file, service state and logs (`run/logs/`)", "./data"
        ),
    )
    project_dir: Path | None = field(
        default=None,
        metadata=_var(
            "KOUIKI_PROJECT_DIR",
            "the checkout holding `dbt_project/`, `superset_assets/`, `dags/` and `infra/`",
            "the checkout the package runs from",
        ),
    )
    max_message_bytes: int = field(
        default=1024 * 1024,
        metadata=_var("KOUIKI_MAX_MESSAGE_BYTES", "largest document accepted by submit and the lander (bytes)"),
    )
    key_id: str = field(
        default="",
        metadata=_var(
            "KOUIKI_KEY_ID",
            "`kouiki submit`: the signing key's id (`kouiki keys add --consortium CODE` prints one)",
            "none: submit refuses to send",
        ),
    )
    key_secret: str = field(
        default="",
        repr=False,
        metadata=_var("KOUIKI_KEY_SECRET", "`kouiki submit`: the signing key's secret", "none"),
    )
    lander_batch: int = field(
        default=5000, metadata=_var("KOUIKI_LANDER_BATCH", "most records per landed Parquet file")
    )
    lander_processes: int = field(
        default=8,
        metadata=_var("KOUIKI_LANDER_PROCESSES", "most partition processes of one `kouiki ingest`, each a consumer"),
    )
    ingest_schedule: str = field(
        default="*/15 * * * *",
        metadata=_var(
            "KOUIKI_INGEST_SCHEDULE",
            "safety-net cron of `kouiki_ingest`, which events start anyway (read when the DAG file is parsed)",
        ),
    )
    admin_password: str = field(
        default="",
        repr=False,
        metadata=_var(
            "KOUIKI_ADMIN_PASSWORD", "the admin login of Airflow and Superset", "generated once per data directory"
        ),
    )
    identity_db_url: str = field(
        default="",
        repr=False,
        metadata=_var(
            "KOUIKI_IDENTITY_DB_URL",
            "the identity store: users, tokens, signing keys, audit log (SQLAlchemy URL; PostgreSQL in production)",
            "SQLite at `<data dir>/run/identity/identity.db`",
        ),
    )
    platform_key: str = field(
        default="",
        repr=False,
        metadata=_var(
            "KOUIKI_PLATFORM_KEY",
            "encrypts the signing secrets in the identity store (32 bytes, URL-safe base64)",
            "generated once per data directory into `run/secrets/platform_key`",
        ),
    )
    token_ttl_days: float = field(
        default=90.0,
        metadata=_var("KOUIKI_TOKEN_TTL_DAYS", "how long a REST API token is accepted after it was issued (days)"),
    )
    airflow_port: int = field(
        default=8080, metadata=_var("KOUIKI_AIRFLOW_PORT", "Airflow's web port, bound to 127.0.0.1")
    )
    airflow_db_url: str = field(
        default="",
        metadata=_var(
            "KOUIKI_AIRFLOW_DB_URL",
            "Airflow metadata database (SQLAlchemy URL; PostgreSQL in production)",
            "SQLite under `<data dir>/run/airflow/`",
        ),
    )
    superset_port: int = field(
        default=8088, metadata=_var("KOUIKI_SUPERSET_PORT", "Superset's web port, bound to 127.0.0.1")
    )
    superset_url: str = field(
        default="",
        metadata=_var(
            "KOUIKI_SUPERSET_URL",
            "a Superset the platform does not start itself (compose: `http://superset:8088`); roles,"
            " row-level security and the after-publish refresh go to it",
            "none: the local Superset on `KOUIKI_SUPERSET_PORT`",
        ),
    )
    portal_port: int = field(
        default=8090,
        metadata=_var("KOUIKI_PORTAL_PORT", "the REST gateway's port (`kouiki portal`), bound to 127.0.0.1"),
    )
    portal_max_body_bytes: int = field(
        default=64 * 1024 * 1024,
        metadata=_var("KOUIKI_PORTAL_MAX_BODY_BYTES", "largest request body the REST gateway accepts (bytes)"),
    )
    upload_max_unpacked_bytes: int = field(
        default=64 * 1024 * 1024,
        metadata=_var(
            "KOUIKI_UPLOAD_MAX_UNPACKED_BYTES",
            "largest decompressed content of an uploaded `.xlsx` (a zip) the readers open (bytes)",
        ),
    )
    portal_session_hours: float = field(
        default=8.0,
        metadata=_var("KOUIKI_PORTAL_SESSION_HOURS", "how long a portal login lasts without activity (hours)"),
    )
    portal_secure_cookies: bool = field(
        default=False,
        metadata=_var(
            "KOUIKI_PORTAL_SECURE_COOKIES",
            "`1` to mark the portal's cookies Secure (set it when the portal is served over HTTPS)",
            "off (the local portal is plain HTTP on 127.0.0.1)",
        ),
    )
    smtp_host: str = field(
        default="",
        metadata=_var("KOUIKI_SMTP_HOST", "SMTP server for notice digests and alerts", "none: no e-mail is sent"),
    )
    smtp_port: int = field(default=587, metadata=_var("KOUIKI_SMTP_PORT", "SMTP server port"))
    smtp_user: str = field(default="", metadata=_var("KOUIKI_SMTP_USER", "SMTP login", "none: no authentication"))
    smtp_password: str = field(default="", repr=False, metadata=_var("KOUIKI_SMTP_PASSWORD", "SMTP password"))
    smtp_starttls: bool = field(
        default=False,
        metadata=_var("KOUIKI_SMTP_STARTTLS", "`1` to upgrade the SMTP connection with STARTTLS", "off"),
    )
    smtp_from: str = field(
        default="kouiki@localhost", metadata=_var("KOUIKI_SMTP_FROM", "the From address of notice e-mails")
    )
    alert_emails: str = field(
        default="",
        metadata=_var(
            "KOUIKI_ALERT_EMAILS",
            "comma-separated addresses that get an e-mail when a Kouiki DAG task fails (needs `KOUIKI_SMTP_HOST`)",
            "none: failures are only recorded in `run/alerts.jsonl`",
        ),
    )
    notice_due_days: int = field(
        default=7,
        metadata=_var("KOUIKI_NOTICE_DUE_DAYS", "a report due within this many days and not received is a notice"),
    )
    superset_secret_key: str = field(
        default="",
        repr=False,
        metadata=_var("SUPERSET_SECRET_KEY", "Superset's session signing key", "generated once per data directory"),
    )
    quality_max_missing_reports: int = field(
        default=0, metadata=_var("KOUIKI_QUALITY_MAX_MISSING_REPORTS", "daily check: missing reports tolerated")
    )
    quality_max_new_dead_letters: int = field(
        default=0,
        metadata=_var("KOUIKI_QUALITY_MAX_NEW_DEAD_LETTERS", "daily check: new dead letters tolerated in the window"),
    )
    quality_dead_letter_window_hours: float = field(
        default=24.0, metadata=_var("KOUIKI_QUALITY_DEAD_LETTER_WINDOW_HOURS", "daily check: the dead-letter window")
    )
    quality_max_lake_age_hours: float = field(
        default=168.0,
        metadata=_var("KOUIKI_QUALITY_MAX_LAKE_AGE_HOURS", "daily check: how old the newest landed event may be"),
    )
    full_rebuild_hours: float = field(
        default=24.0,
        metadata=_var(
            "KOUIKI_FULL_REBUILD_HOURS",
            "`kouiki build`: full rebuild with every dbt test once the last is this old (0: only by hand)",
        ),
    )
    venv_bin: Path | None = field(
        default=None,
        metadata=_var("KOUIKI_VENV_BIN", "`bin/` of the platform environment (Airflow)", "`.venv/bin` of the checkout"),
    )
    venv_dbt_bin: Path | None = field(
        default=None,
        metadata=_var("KOUIKI_VENV_DBT_BIN", "`bin/` of the dbt environment", "`.venv-dbt/bin` of the checkout"),
    )
    venv_superset_bin: Path | None = field(
        default=None,
        metadata=_var(
            "KOUIKI_VENV_SUPERSET_BIN", "`bin/` of the Superset environment", "`.venv-superset/bin` of the checkout"
        ),
    )
    fault_pause_before_rename_ms: int = field(
        default=0,
        metadata=_var(
            "KOUIKI_FAULT_PAUSE_BEFORE_RENAME_MS",
            "fault-injection tests only: pause between writing and renaming a lake file",
        ),
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f.metadata["env"])
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f, raw)
        settings = cls(**values)
        return dataclasses.replace(settings, data_dir=settings.data_dir.resolve())

    def environment(self) -> dict[str, str]:
        """These settings as environment variables, for the processes the platform starts."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is not None and value != "":
                out[f.metadata["env"]] = str(value)
        out["KOUIKI_DATA_DIR"] = str(self.data_dir.resolve())
        out["KOUIKI_PROJECT_DIR"] = str(self.project_root)
        return out

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def raw_dir(self) -> Path:
        return self.lake_dir / "raw"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def serving_path(self) -> Path:
        return self.data_dir / "serving.duckdb"

    @property
    def open_data_dir(self) -> Path:
        """Open data snapshots, one directory per fiscal quarter (``kouiki open-data``)."""
        return self.data_dir / "open_data"

    @property
    def run_dir(self) -> Path:
        """Pid files, logs and generated secrets of the local services."""
        return self.data_dir / "run"

    @property
    def identity_db_path(self) -> Path:
        """The embedded identity store, used unless ``identity_db_url`` names another database."""
        return self.run_dir / "identity" / "identity.db"

    @property
    def host_port(self) -> tuple[str, int]:
        first = self.bootstrap_servers.split(",")[0]
        host, _, port = first.rpartition(":")
        return host or "127.0.0.1", int(port)

    @property
    def project_root(self) -> Path:
        """The checkout holding dbt_project/, superset_assets/, dags/ and infra/."""
        return self.project_dir if self.project_dir is not None else default_project_root()

    def venv_executable(self, venv: str, name: str) -> Path:
        """An executable of one of the three environments: ``.venv``, ``.venv-dbt`` or ``.venv-superset``."""
        override = {".venv": self.venv_bin, ".venv-dbt": self.venv_dbt_bin, ".venv-superset": self.venv_superset_bin}[
            venv
        ]
        return (override if override is not None else self.project_root / venv / "bin") / name


def default_project_root() -> Path:
    """The checkout this package is installed from (an editable install), else the working directory
    when it is a checkout; otherwise KOUIKI_PROJECT_DIR has to say where it is."""
    for candidate in (Path(__file__).resolve().parents[2], Path.cwd()):
        if all((candidate / folder).is_dir() for folder in PROJECT_FOLDERS):
            return candidate
    raise ConfigError(
        "cannot find the Kouiki checkout (dbt_project/, superset_assets/, dags/, infra/): "
        "run from the checkout or set KOUIKI_PROJECT_DIR to it"
    )


def _parse(f: dataclasses.Field[Any], raw: str) -> Any:
    kind = str(f.type)
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            if raw.strip().lower() not in TRUE + FALSE:
                raise ValueError(f"not one of {', '.join(TRUE + FALSE)}")
            return raw.strip().lower() in TRUE
        if "Path" in kind:
            return Path(raw)
    except ValueError as exc:
        raise ConfigError(f"{f.metadata['env']}={raw!r}: {exc}") from exc
    return raw


def markdown_table() -> str:
    """The README's configuration table."""
    lines = ["| variable | default | |", "|---|---|---|"]
    defaults = Settings()
    for f in dataclasses.fields(Settings):
        shown = f.metadata["default_doc"] or f"`{getattr(defaults, f.name)}`"
        lines.append(f"| `{f.metadata['env']}` | {shown} | {f.metadata['doc']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
