"""Superset configuration for the local Kouiki analytics layer.

Everything machine- or secret-specific comes from the environment set by
``kouiki.services.superset.process``; this file holds no secrets and no absolute paths.
"""

import importlib.util
import os
from datetime import timedelta

from superset.security import SupersetSecurityManager

# Superset refuses to start with its built-in default key; a missing variable must fail loudly.
SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]

# Metadata (users, charts, dashboards) lives next to the other run-time state of the data dir.
_HOME = os.environ["KOUIKI_SUPERSET_HOME"]
SQLALCHEMY_DATABASE_URI = f"sqlite:///{_HOME}/superset.db?check_same_thread=false"

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

# Secretariats and Cabinet Office staff log in with their Kouiki password: the accounts are created by
# kouiki.services.superset.security.sync_users (roles only, with an unusable random password), and the
# password is checked against the Kouiki identity store by kouiki_login.py (standard library only).
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
