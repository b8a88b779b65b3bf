"""A real Superset logs Kouiki's people in with their Kouiki password: the accounts come from the
identity store at start (apply_security), the password is checked against the store, a revoked user
is refused, and a secretariat's charts hold only its consortium."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kouiki.config import Settings
from kouiki.identity import store, users
from kouiki.identity.principal import CABINET, SECRETARIAT
from kouiki.services.superset import api, security
from kouiki.services.superset.process import SupersetError
from tests.support.platform import free_port, settings_for
from tests.support.superset_stack import build_and_publish, running_superset, write_sample_lake

pytestmark = pytest.mark.integration


def _login(url: str, username: str, password: str) -> api.ApiClient:
    client = api.ApiClient(url)
    client.login(username, password)
    return client


def test_superset_login_is_the_kouiki_login(tmp_path: Path) -> None:
    settings: Settings = settings_for(tmp_path / "data", "127.0.0.1:1")
    write_sample_lake(settings)
    build_and_publish(settings)
    code = security.consortium_codes(settings.serving_path)[0]
    secretariat = users.add_user(settings, "secretariat-a", SECRETARIAT, [code])
    cabinet = users.add_user(settings, "cabinet-office", CABINET)
    port = free_port()
    try:
        with running_superset(settings, port) as admin:
            url = admin.url
            as_secretariat = _login(url, "secretariat-a", secretariat.password)
            me = as_secretariat.request_json("GET", "/api/v1/me/roles/")["result"]
            assert set(me["roles"]) == {"Gamma", security.secretariat_role(code)}
            _login(url, "cabinet-office", cabinet.password)
            with pytest.raises(SupersetError, match="401"):
                _login(url, "secretariat-a", secretariat.password + "x")

            users.revoke_user(settings, "cabinet-office")
            security.apply_security(dataclasses.replace(settings, superset_port=port))
            with pytest.raises(SupersetError, match="401"):
                _login(url, "cabinet-office", cabinet.password)
            [account] = [u for u in admin.all_pages("/api/v1/security/users/") if u["username"] == "cabinet-office"]
            assert account["active"] is False
    finally:
        store.dispose(settings)
