"""Shared fixtures: isolated data directories, real local brokers, and one published sample warehouse
with one running Superset for the dashboard tests.

Brokers: ``shared_broker`` is a data directory of the test's own on the one broker of the session;
use it only when the test's assertions hold whatever other tests have already sent (the lander lands
*everything* on the topics into a data directory). ``fresh_broker`` is an empty broker of the test's
own (memory storage), for tests that count what is on the topics, read the dead-letter topic from the
start, or stop and restart the broker.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kouiki.config import Settings
from kouiki.services import broker
from tests.support.platform import free_port
from tests.support.signing import settings_for

if TYPE_CHECKING:
    from kouiki.services.superset import api
    from tests.support.gateway import Gateway


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture(scope="session")
def session_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """One real broker for the session (memory storage, so every session starts empty)."""
    settings = settings_for(tmp_path_factory.mktemp("broker") / "data", f"127.0.0.1:{free_port()}")
    broker.start(settings)
    yield settings
    broker.stop(settings)


@pytest.fixture
def shared_broker(session_broker: Settings, data_dir: Path) -> Settings:
    """The test's own data directory on the session's broker (topics may hold other tests' events)."""
    return settings_for(data_dir, session_broker.bootstrap_servers)


@pytest.fixture
def fresh_broker(data_dir: Path) -> Iterator[Settings]:
    """An empty broker of the test's own on a free port, stopped afterwards. The test may stop and
    start it again with ``broker.stop``/``broker.start`` (it comes back empty)."""
    settings = settings_for(data_dir, f"127.0.0.1:{free_port()}")
    broker.start(settings)
    try:
        yield settings
    finally:
        broker.stop(settings)


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The generated sample written straight into a raw lake, built by dbt and published; no broker.
    Shared read-only by the Superset and browser tests."""
    from tests.support.superset_stack import build_and_publish, write_sample_lake  # not for the fast set

    settings = settings_for(tmp_path_factory.mktemp("sample-warehouse") / "data", "127.0.0.1:1")
    write_sample_lake(settings)
    build_and_publish(settings)
    return settings


@pytest.fixture(scope="session")
def superset_settings(sample_warehouse: Settings) -> Settings:
    """``sample_warehouse`` with the free port its Superset listens on."""
    return dataclasses.replace(sample_warehouse, superset_port=free_port())


@pytest.fixture(scope="session")
def superset_admin(superset_settings: Settings) -> Iterator[api.ApiClient]:
    """Superset bootstrapped from infra/ and superset_assets/ over the sample warehouse, as an admin
    API client; one for the session."""
    from tests.support.superset_stack import running_superset

    with running_superset(superset_settings, superset_settings.superset_port) as client:
        yield client


@pytest.fixture
def gateway(fresh_broker: Settings) -> Iterator[Gateway]:
    """The real REST gateway on a free port, over the test's own broker, with its people."""
    from tests.support.gateway import running_gateway

    with running_gateway(fresh_broker) as running:
        yield running


SHARED_SUPERSET = frozenset({"sample_warehouse", "superset_settings", "superset_admin"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``pytest -n 2 --dist loadgroup`` (make test) a module runs whole in one process, and the
    modules on the session's Superset share one process, so no module- or session-scoped service is
    started twice."""
    on_superset = {
        item.nodeid.split("::")[0] for item in items if SHARED_SUPERSET & set(getattr(item, "fixturenames", ()))
    }
    for item in items:
        module = item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group("superset" if module in on_superset else module))
