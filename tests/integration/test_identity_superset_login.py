"""A real Superset logs Kouiki's people in with their Kouiki password: the accounts come from the
identity store at start (apply_security), the password is checked against the store, a revoked user
is refused, and a secretariat's charts hold only its consortium."""

from __future__ import annotations

import pytest

from kouiki.config import Settings
from kouiki.identity import users
from kouiki.identity.principal import CABINET, SECRETARIAT
from kouiki.services.superset import api, security
from kouiki.services.superset.process import SupersetError

pytestmark = pytest.mark.integration


def _login(url: str, username: str, password: str) -> api.ApiClient:
    client = api.ApiClient(url)
    client.login(username, password)
    return client


def test_superset_login_is_the_kouiki_login(superset_settings: Settings, superset_admin: api.ApiClient) -> None:
    settings, admin = superset_settings, superset_admin
    code = security.consortium_codes(settings.serving_path)[0]
    secretariat = users.add_user(settings, "login-secretariat-a", SECRETARIAT, [code])
    cabinet = users.add_user(settings, "login-cabinet-office", CABINET)
    security.apply_security(settings)  # what kouiki up and every publish do: the store's people become accounts
    url = admin.url
    as_secretariat = _login(url, "login-secretariat-a", secretariat.password)
    me = as_secretariat.request_json("GET", "/api/v1/me/roles/")["result"]
    assert set(me["roles"]) == {"Gamma", security.secretariat_role(code)}
    _login(url, "login-cabinet-office", cabinet.password)
    with pytest.raises(SupersetError, match="401"):
        _login(url, "login-secretariat-a", secretariat.password + "x")

    users.revoke_user(settings, "login-cabinet-office")
    security.apply_security(settings)
    with pytest.raises(SupersetError, match="401"):
        _login(url, "login-cabinet-office", cabinet.password)
    [account] = [u for u in admin.all_pages("/api/v1/security/users/") if u["username"] == "login-cabinet-office"]
    assert account["active"] is False
