"""Superset gets the Kouiki store's people: accounts with the right roles (sync_users), and the login
check Superset runs against the store (infra/superset/kouiki_login.py, standard library only)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from kouiki.config import Settings
from kouiki.identity import store, users
from kouiki.identity.principal import CABINET, OPERATOR, SECRETARIAT
from kouiki.services.superset.security import CABINET_ROLE, VIEWER_BASE_ROLE, secretariat_role, sync_users
from tests.support.identity import CONSORTIUM_A, CONSORTIUM_B, identity_settings

LOGIN_MODULE = Path(__file__).resolve().parents[2] / "infra" / "superset" / "kouiki_login.py"


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    s = identity_settings(tmp_path)
    yield s
    store.dispose(s)


@pytest.fixture(scope="module")
def kouiki_login() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kouiki_login", LOGIN_MODULE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_superset_checks_passwords_against_the_store(settings: Settings, kouiki_login: ModuleType) -> None:
    url = store.url(settings)
    secretariat = users.add_user(settings, "tohoku", SECRETARIAT, [CONSORTIUM_A])
    cabinet = users.add_user(settings, "cabinet-office", CABINET)
    operator = users.add_user(settings, "ops", OPERATOR)
    gone = users.add_user(settings, "gone", CABINET)
    users.revoke_user(settings, "gone")
    assert kouiki_login.check(url, "tohoku", secretariat.password) is True
    assert kouiki_login.check(url, "cabinet-office", cabinet.password) is True
    assert kouiki_login.check(url, "tohoku", secretariat.password + "x") is False
    assert kouiki_login.check(url, "tohoku", cabinet.password) is False
    assert kouiki_login.check(url, "gone", gone.password) is False  # revoked
    assert kouiki_login.check(url, "ops", operator.password) is False  # operators have no Superset account
    assert kouiki_login.check(url, "admin", "anything") is None  # not Kouiki's: Superset's own login
    assert kouiki_login.consortia(url, "tohoku") == [CONSORTIUM_A]


def test_an_unreadable_store_leaves_superset_its_own_login(tmp_path: Path, kouiki_login: ModuleType) -> None:
    # None: Superset's table decides, where Kouiki users have random passwords known to no one
    assert kouiki_login.check(f"sqlite:///{tmp_path}/missing.db", "tohoku", "pw") is None
    assert kouiki_login.check("postgresql://postgres@127.0.0.1/x", "tohoku", "pw") is None


class FakeSuperset:
    """The few security endpoints sync_users calls, in memory."""

    def __init__(self) -> None:
        self.roles = {"Admin": 1, "Gamma": 2, CABINET_ROLE: 3}
        self.users: dict[int, dict[str, Any]] = {1: {"id": 1, "username": "admin", "active": True, "roles": [1]}}

    def all_pages(self, path: str, page_size: int = 100) -> list[dict[str, Any]]:
        if path == "/api/v1/security/roles/":
            return [{"id": i, "name": n} for n, i in self.roles.items()]
        assert path == "/api/v1/security/users/"
        return list(self.users.values())

    def request_json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        body = kwargs["json"]
        if path == "/api/v1/security/roles/":
            self.roles[body["name"]] = len(self.roles) + 1
            return {"id": self.roles[body["name"]]}
        if method == "POST":
            new_id = max(self.users) + 1
            self.users[new_id] = dict(body, id=new_id)
            return {"id": new_id}
        user_id = int(path.rstrip("/").rsplit("/", 1)[1])
        assert "password" not in body  # an update never resets the (unusable) password
        self.users[user_id].update(body)
        return {}

    def roles_of(self, username: str) -> set[str]:
        names = {i: n for n, i in self.roles.items()}
        [user] = [u for u in self.users.values() if u["username"] == username]
        return {names[i] for i in user["roles"]}

    def user(self, username: str) -> dict[str, Any]:
        [user] = [u for u in self.users.values() if u["username"] == username]
        return user


def test_sync_users_creates_updates_and_deactivates(settings: Settings) -> None:
    fake = FakeSuperset()
    users.add_user(settings, "tohoku", SECRETARIAT, [CONSORTIUM_A, CONSORTIUM_B])
    cabinet = users.add_user(settings, "cabinet-office", CABINET)
    users.add_user(settings, "ops", OPERATOR)
    first = sync_users(fake, users.list_users(settings))  # type: ignore[arg-type]
    assert set(first) == {"tohoku", "cabinet-office"}
    assert fake.roles_of("tohoku") == {VIEWER_BASE_ROLE, secretariat_role(CONSORTIUM_A), secretariat_role(CONSORTIUM_B)}
    assert fake.roles_of("cabinet-office") == {VIEWER_BASE_ROLE, CABINET_ROLE}
    assert fake.user("tohoku")["active"] and len(fake.user("tohoku")["password"]) >= 40
    assert cabinet.password != fake.user("cabinet-office")["password"]  # never the Kouiki password
    assert fake.user("admin") == {"id": 1, "username": "admin", "active": True, "roles": [1]}  # untouched

    users.revoke_user(settings, "cabinet-office")
    assert sync_users(fake, users.list_users(settings)) == first  # type: ignore[arg-type]
    assert not fake.user("cabinet-office")["active"] and fake.user("tohoku")["active"]
    assert len(fake.users) == 3


def test_a_revoked_user_never_seen_by_superset_gets_no_account(settings: Settings) -> None:
    fake = FakeSuperset()
    users.add_user(settings, "gone", CABINET)
    users.revoke_user(settings, "gone")
    assert sync_users(fake, users.list_users(settings)) == {}  # type: ignore[arg-type]
    assert [u["username"] for u in fake.users.values()] == ["admin"]
