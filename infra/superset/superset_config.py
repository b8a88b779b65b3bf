"""Superset configuration for the Kouiki analytics layer, local or production, chosen by the environment.

Local (no ``KOUIKI_SUPERSET_*`` production variable set): the environment comes from
``kouiki.services.superset.process``; metadata in SQLite and caches on disk under ``KOUIKI_SUPERSET_HOME``,
no Celery, so no alerts or reports.

Production (docker-compose): on as soon as one of ``_PRODUCTION_VARS`` (below) is set, and then all of them and
``KOUIKI_SMTP_HOST`` and ``KOUIKI_IDENTITY_DB_URL`` must be, or Superset does not start. Metadata on
PostgreSQL, caches, Celery broker and results on Redis, alerts and reports run by a Celery worker and beat
and sent over SMTP, screenshots by Debian's chromium, Talisman on.

This file holds no secrets; its only absolute paths are those of the Debian packages the image installs.
"""

import importlib.util
import os
from datetime import timedelta

from superset.security import SupersetSecurityManager

# Superset refuses to start with its built-in default key; a missing variable must fail loudly.
SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]

# Any of these switches production mode on (docker-compose.yml sets them all).
_PRODUCTION_VARS = (
    "KOUIKI_SUPERSET_DB_URL",  # SQLAlchemy URL of the metadata database (PostgreSQL)
    "KOUIKI_SUPERSET_REDIS_URL",  # caches, Celery broker and results, rate limits: redis://host:6379/0
    "KOUIKI_SUPERSET_INTERNAL_URL",  # Superset as the worker's headless browser reaches it: http://superset:8088/
    "KOUIKI_SUPERSET_PUBLIC_URL",  # Superset as the people reach it: the links in report e-mails
)
_PRODUCTION = any(os.environ.get(name) for name in _PRODUCTION_VARS)

# The serving database is a local DuckDB file; Superset otherwise blocks file-based URIs.
PREVENT_UNSAFE_DB_CONNECTIONS = False

# Cabinet Office staff work in Japanese; English stays available from the language menu.
BABEL_DEFAULT_LOCALE = "ja"
LANGUAGES = {
    "ja": {"flag": "jp", "name": "Japanese"},
    "en": {"flag": "us", "name": "English"},
}

FEATURE_FLAGS = {
    "DASHBOARD_NATIVE_FILTERS": True,
    "RLS_IN_SQLLAB": True,
}

if not _PRODUCTION:
    # Metadata (users, charts, dashboards) lives next to the other run-time state of the data dir.
    _HOME = os.environ["KOUIKI_SUPERSET_HOME"]
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{_HOME}/superset.db?check_same_thread=false"

    # Query results are cached on disk so both gunicorn workers share them; the cache key includes
    # the dataset's changed_on, which the runtime bumps after a new serving file is published.
    DATA_CACHE_CONFIG = {
        "CACHE_TYPE": "FileSystemCache",
        "CACHE_DIR": os.path.join(_HOME, "cache", "data"),
        "CACHE_DEFAULT_TIMEOUT": int(timedelta(hours=24).total_seconds()),
        "CACHE_KEY_PREFIX": "kouiki_data_",
    }
    # Metadata cache in its own directory: FileSystemCache's threshold and clear() act on a whole directory.
    CACHE_CONFIG = dict(
        DATA_CACHE_CONFIG,
        CACHE_DIR=os.path.join(_HOME, "cache", "meta"),
        CACHE_KEY_PREFIX="kouiki_meta_",
    )
    # Without Redis, the cache-key registry has to live in the metadata DB.
    STORE_CACHE_KEYS_IN_METADATA_DB = True
    # Single-host deployment: in-process rate-limit counters are enough and need no extra service.
    RATELIMIT_STORAGE_URI = "memory://"

    # Served on 127.0.0.1 over plain HTTP only; Talisman's HTTPS/CSP enforcement would break local
    # use. Any deployment reachable from another host must turn this back on behind TLS.
    TALISMAN_ENABLED = False
else:
    from celery.schedules import crontab
    from flask_caching.backends.rediscache import RedisCache
    from redis import Redis
    from superset.tasks.types import ExecutorType

    _missing = [n for n in (*_PRODUCTION_VARS, "KOUIKI_SMTP_HOST", "KOUIKI_IDENTITY_DB_URL") if not os.environ.get(n)]
    if _missing:
        raise RuntimeError(
            "Superset's production configuration is incomplete: "
            f"{', '.join(n for n in _PRODUCTION_VARS if os.environ.get(n))} set but {', '.join(_missing)} not"
        )
    _REDIS_URL = os.environ["KOUIKI_SUPERSET_REDIS_URL"]
    if not _REDIS_URL.startswith(("redis://", "rediss://")):
        raise RuntimeError("KOUIKI_SUPERSET_REDIS_URL must be a redis:// or rediss:// URL")

    def _flag(name: str) -> bool:
        """A yes/no variable, read as kouiki.config reads it."""
        raw = os.environ.get(name, "").strip().lower()
        if raw not in ("", "1", "true", "yes", "on", "0", "false", "no", "off"):
            raise RuntimeError(f"{name}={raw!r}: not one of 1, true, yes, on, 0, false, no, off")
        return raw in ("1", "true", "yes", "on")

    def _base_url(name: str) -> str:
        url = os.environ[name]
        if not url.startswith(("http://", "https://")):
            raise RuntimeError(f"{name} must be an http:// or https:// URL")
        return url if url.endswith("/") else url + "/"

    SQLALCHEMY_DATABASE_URI = os.environ["KOUIKI_SUPERSET_DB_URL"]

    # One Redis for every gunicorn worker, the Celery worker and beat; the prefixes keep the caches apart.
    def _redis_cache(prefix: str, timeout: timedelta, **extra: object) -> dict[str, object]:
        return {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": _REDIS_URL,
            "CACHE_KEY_PREFIX": prefix,
            "CACHE_DEFAULT_TIMEOUT": int(timeout.total_seconds()),
            **extra,
        }

    # The cache key includes the dataset's changed_on, which the runtime bumps after a publish.
    DATA_CACHE_CONFIG = _redis_cache("kouiki_data_", timedelta(hours=24))
    CACHE_CONFIG = _redis_cache("kouiki_meta_", timedelta(hours=24))
    # Superset's defaults keep these two in the metadata DB; timeouts as Superset's defaults.
    FILTER_STATE_CACHE_CONFIG = _redis_cache(
        "kouiki_filter_state_", timedelta(days=90), REFRESH_TIMEOUT_ON_RETRIEVAL=True
    )
    EXPLORE_FORM_DATA_CACHE_CONFIG = _redis_cache(
        "kouiki_explore_form_", timedelta(days=7), REFRESH_TIMEOUT_ON_RETRIEVAL=True
    )
    # SQL Lab's asynchronous results (the client connects on first use, not here).
    RESULTS_BACKEND = RedisCache(host=Redis.from_url(_REDIS_URL), key_prefix="kouiki_results_")
    STORE_CACHE_KEYS_IN_METADATA_DB = False
    # Counters shared by every worker and container.
    RATELIMIT_STORAGE_URI = _REDIS_URL

    # reports.scheduler recovers the minute beat fired it from the message's expiry minus this value
    # (superset/tasks/scheduler.py), so the beat entry below must expire exactly this long after it is sent.
    CELERY_BEAT_SCHEDULER_EXPIRES = timedelta(weeks=1)

    class CeleryConfig:  # Superset's own CeleryConfig (superset/config.py), on Redis
        broker_url = _REDIS_URL
        result_backend = _REDIS_URL
        imports = (
            "superset.sql_lab",
            "superset.tasks.scheduler",
            "superset.tasks.thumbnails",
            "superset.tasks.cache",
        )
        worker_prefetch_multiplier = 1
        task_acks_late = False
        task_annotations = {"sql_lab.get_sql_results": {"rate_limit": "100/s"}}
        beat_schedule = {
            "reports.scheduler": {
                "task": "reports.scheduler",
                "schedule": crontab(minute="*", hour="*"),
                "options": {"expires": int(CELERY_BEAT_SCHEDULER_EXPIRES.total_seconds())},
            },
            "reports.prune_log": {
                "task": "reports.prune_log",
                "schedule": crontab(minute=0, hour=0),
            },
        }

    CELERY_CONFIG = CeleryConfig

    FEATURE_FLAGS["ALERT_REPORTS"] = True
    # A report runs as its owner (Superset 6.1's ALERT_REPORTS_EXECUTORS; ALERT_REPORTS_EXECUTE_AS is
    # gone): the data sent is what the owner may see, row-level security included, never an admin's view.
    ALERT_REPORTS_EXECUTORS = [ExecutorType.OWNER]

    # E-mail through the SMTP server the kouiki package sends its notices through, same variables.
    SMTP_HOST = os.environ["KOUIKI_SMTP_HOST"]
    try:
        SMTP_PORT = int(os.environ.get("KOUIKI_SMTP_PORT") or 587)
    except ValueError as exc:
        raise RuntimeError(f"KOUIKI_SMTP_PORT={os.environ['KOUIKI_SMTP_PORT']!r}: not a port number") from exc
    SMTP_USER = os.environ.get("KOUIKI_SMTP_USER", "")  # Superset logs in only when user and password are set
    SMTP_PASSWORD = os.environ.get("KOUIKI_SMTP_PASSWORD", "")
    SMTP_STARTTLS = _flag("KOUIKI_SMTP_STARTTLS")
    SMTP_SSL = False
    SMTP_SSL_SERVER_AUTH = True  # STARTTLS checks the server's certificate, as kouiki.notices.mailer does
    SMTP_MAIL_FROM = os.environ.get("KOUIKI_SMTP_FROM") or "kouiki@localhost"

    # Screenshots (PNG/PDF reports) by Debian's chromium in the worker container (infra/docker/superset.Dockerfile).
    # The driver's path keeps Selenium Manager from trying to download a browser; chromedriver finds
    # /usr/bin/chromium itself (a "binary_location" here would reach WebDriver() as an unknown argument).
    WEBDRIVER_TYPE = "chrome"
    WEBDRIVER_OPTION_ARGS = [
        "--headless=new",
        "--no-sandbox",  # in a container, as an unprivileged user: no user namespaces for the sandbox
        "--disable-dev-shm-usage",  # Docker's /dev/shm is 64 MB
        "--disable-gpu",
    ]
    WEBDRIVER_CONFIGURATION = {
        "options": {"capabilities": {}, "preferences": {}},
        "service": {
            "executable_path": "/usr/bin/chromedriver",
            "log_output": "/dev/null",
            "service_args": [],
            "port": 0,
            "env": {},
        },
    }
    WEBDRIVER_BASEURL = _base_url("KOUIKI_SUPERSET_INTERNAL_URL")  # also where CSV/text reports fetch data
    WEBDRIVER_BASEURL_USER_FRIENDLY = _base_url("KOUIKI_SUPERSET_PUBLIC_URL")

    # Talisman on: Superset's own CSP (nonce + strict-dynamic scripts, inline styles for its CSS-in-JS)
    # without its third-party hosts (map tiles, telemetry pixel, web fonts), none of which the Kouiki
    # dashboards use. HTTPS is the reverse proxy's business, and the session cookie cannot be Secure:
    # the platform's own API client (KOUIKI_SUPERSET_URL) and the report worker use plain HTTP inside
    # the compose network, and their CSRF token lives in that cookie.
    # Behind the TLS reverse proxy the deployment puts in front: the scheme and host of links and redirects
    # come from its X-Forwarded-* headers (one proxy).
    ENABLE_PROXY_FIX = True
    TALISMAN_ENABLED = True
    TALISMAN_CONFIG = {
        "content_security_policy": {
            "base-uri": ["'self'"],
            "default-src": ["'self'"],
            "img-src": ["'self'", "blob:", "data:"],
            "worker-src": ["'self'", "blob:"],
            "connect-src": ["'self'"],
            "object-src": "'none'",
            "style-src": ["'self'", "'unsafe-inline'"],
            "font-src": ["'self'"],
            "script-src": ["'self'", "'strict-dynamic'"],
        },
        "content_security_policy_nonce_in": ["script-src"],
        "force_https": False,
        "session_cookie_secure": False,
    }

# Secretariats and Cabinet Office staff log in with their Kouiki password: the accounts are created by
# kouiki.services.superset.security.sync_users (roles only, with an unusable random password), and the
# password is checked against the Kouiki identity store by kouiki_login.py (SQLite or PostgreSQL).
_spec = importlib.util.spec_from_file_location(
    "kouiki_login", os.path.join(os.path.dirname(os.path.abspath(__file__)), "kouiki_login.py")
)
if _spec is None or _spec.loader is None:
    raise ImportError("kouiki_login.py must lie next to superset_config.py")
kouiki_login = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(kouiki_login)
_IDENTITY_DB_URL = os.environ.get("KOUIKI_IDENTITY_DB_URL", "")


class KouikiSecurityManager(SupersetSecurityManager):
    def auth_user_db(self, username, password):
        verdict = kouiki_login.check(_IDENTITY_DB_URL, username or "", password or "") if _IDENTITY_DB_URL else None
        if verdict is None:  # not a Kouiki user: the platform admin, Superset's own login
            return super().auth_user_db(username, password)
        user = self.find_user(username=username)
        if not verdict or user is None or not user.is_active:
            if user is not None:
                self.update_user_auth_stat(user, False)
            return None
        self.update_user_auth_stat(user, True)
        return user


CUSTOM_SECURITY_MANAGER = KouikiSecurityManager
