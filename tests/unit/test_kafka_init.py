"""Compose's kafka-init (infra/kafka/kafka-init.sh), the script that gives every principal its ACLs.
No Kafka broker can run on this machine, so Kafka's admin scripts are stand-ins here
(tests/support/kafka_admin_standin.py) that keep the topics, SCRAM users and ACLs the script sets;
what is tested is the script: the policy it grants, revoking, its audit, and where passwords go."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "infra" / "kafka" / "kafka-init.sh"
STANDIN = REPO / "tests" / "support" / "kafka_admin_standin.py"
TOOLS = ("kafka-topics.sh", "kafka-configs.sh", "kafka-acls.sh", "kafka-broker-api-versions.sh")
PASSWORDS = {
    "BROKER_SASL_PASSWORD": "broker-password-0123456789abc",
    "GATEWAY_SCRAM_PASSWORD": "gateway-password-0123456789ab",
    "LANDER_SCRAM_PASSWORD": "lander-password-0123456789abc",
}
CONSORTIUM_PASSWORDS = {"kr-tohoku-01": "tohoku-password-0123456789ab", "kr-kyushu-02": "kyushu-password-0123456789ab"}
REPORTS, REGISTRY, DEADLETTER = "kouiki.reports.v1", "kouiki.registry.v1", "kouiki.deadletter.v1"


class Broker:
    """The stand-ins' state directory, read back as the broker would answer."""

    def __init__(self, root: Path) -> None:
        self.state = root / "state"
        self.state.mkdir()
        self.bin = root / "bin"
        self.bin.mkdir()
        for tool in TOOLS:
            wrapper = self.bin / tool
            wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{STANDIN}" {tool} "$@"\n')
            wrapper.chmod(0o755)
        self.secret = root / "kafka_consortium_principals"

    def load(self, name: str) -> Any:
        path = self.state / f"{name}.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def run(self, consortia: dict[str, str], **env: str) -> subprocess.CompletedProcess[str]:
        self.secret.write_text("# principal password\n" + "".join(f"{n} {p}\n" for n, p in consortia.items()))
        environment = {
            "PATH": os.environ["PATH"],
            "STANDIN_STATE": str(self.state),
            "KAFKA_BIN": str(self.bin),
            "CONSORTIA_FILE": str(self.secret),
            **PASSWORDS,
            **env,
        }
        return subprocess.run(["bash", str(SCRIPT)], env=environment, capture_output=True, text=True, timeout=120)

    def allowed(self, topic: str, operation: str) -> set[str]:
        """Principals an ACL allows ``operation`` on ``topic`` (literal or prefixed patterns)."""
        found = set()
        for principal, op, resource in self.load("acls") or []:
            kind, name, pattern = resource.split(":")
            applies = name in (topic, "*") if pattern == "literal" else topic.startswith(name)
            if kind == "topic" and applies and op in (operation, "ALL"):
                found.add(principal.removeprefix("User:"))
        return found


@pytest.fixture
def broker(tmp_path: Path) -> Broker:
    return Broker(tmp_path)


def test_the_acls_are_the_policy(broker: Broker) -> None:
    done = broker.run(CONSORTIUM_PASSWORDS)
    assert done.returncode == 0, done.stderr
    consortia = set(CONSORTIUM_PASSWORDS)
    assert broker.allowed(REPORTS, "READ") == {"lander"}  # nobody else reads a consortium's reports
    assert broker.allowed(REPORTS, "WRITE") == {"gateway"} | consortia
    assert broker.allowed(REGISTRY, "WRITE") == {"gateway"} | consortia
    assert broker.allowed(REGISTRY, "READ") == {"lander", "gateway"} | consortia  # submit checks codes
    assert broker.allowed(DEADLETTER, "WRITE") == broker.allowed(DEADLETTER, "READ") == {"lander"}
    assert broker.load("topics") == {REGISTRY: 3, REPORTS: 3, DEADLETTER: 1}
    assert set(broker.load("users")) == {"gateway", "lander"} | consortia


def test_passwords_never_reach_a_command_line_or_a_tools_environment(broker: Broker) -> None:
    assert broker.run(CONSORTIUM_PASSWORDS).returncode == 0
    secrets = [*PASSWORDS.values(), *CONSORTIUM_PASSWORDS.values()]
    for call in broker.load("calls"):
        exposed = json.dumps(call["argv"]) + json.dumps(call["env"])
        assert not any(secret in exposed for secret in secrets), call["tool"]
        assert call["command_config_mode"] == "0o600"
        assert PASSWORDS["BROKER_SASL_PASSWORD"] in call["command_config"]  # as User:broker, from a 0600 file
    users = broker.load("users")
    assert users["lander"] == f"SCRAM-SHA-512=iterations=8192,password={PASSWORDS['LANDER_SCRAM_PASSWORD']}\n"


def test_a_consortium_taken_off_the_list_loses_its_access(broker: Broker) -> None:
    assert broker.run(CONSORTIUM_PASSWORDS).returncode == 0
    kept = {"kr-tohoku-01": CONSORTIUM_PASSWORDS["kr-tohoku-01"]}
    done = broker.run(kept)
    assert done.returncode == 0, done.stderr
    assert "revoked User:kr-kyushu-02" in done.stdout
    assert "kr-kyushu-02" not in broker.allowed(REPORTS, "WRITE") | broker.allowed(REGISTRY, "READ")
    assert "kr-kyushu-02" not in broker.load("users")
    assert "kr-tohoku-01" in broker.allowed(REPORTS, "WRITE")


def test_an_acl_outside_the_policy_fails_the_run(broker: Broker) -> None:
    (broker.state / "acls.json").write_text(json.dumps([["User:gateway", "READ", f"topic:{REPORTS}:literal"]]))
    done = broker.run(CONSORTIUM_PASSWORDS)
    assert done.returncode == 1
    assert "User:gateway is allowed READ on kouiki.reports.v1" in done.stderr
    (broker.state / "acls.json").write_text(json.dumps([["User:portal-debug", "READ", "topic:kouiki.:prefixed"]]))
    assert broker.run(CONSORTIUM_PASSWORDS).returncode == 1


def test_a_broker_without_the_authorizer_is_refused(broker: Broker) -> None:
    """ACLs on a broker that does not enforce them would mean nothing."""
    done = broker.run(CONSORTIUM_PASSWORDS, STANDIN_AUTHORIZER="")
    assert done.returncode == 1
    assert "StandardAuthorizer" in done.stderr
    assert broker.load("acls") == {} and broker.load("users") == {}


@pytest.mark.parametrize(
    ("changes", "consortia", "message"),
    [
        ({"LANDER_SCRAM_PASSWORD": "change-me-kafka-lander-password"}, CONSORTIUM_PASSWORDS, "placeholder"),
        ({"GATEWAY_SCRAM_PASSWORD": "short"}, CONSORTIUM_PASSWORDS, "24+ characters"),
        ({}, {"lander": "lander-impostor-password-0123456"}, "reserved"),
        ({}, {"kr-tohoku-01": "has$dollar-0123456789012345678"}, "24+ characters"),
    ],
)
def test_unusable_input_stops_it_before_anything_is_changed(
    broker: Broker, changes: dict[str, str], consortia: dict[str, str], message: str
) -> None:
    done = broker.run(consortia, **changes)
    assert done.returncode == 1
    assert message in done.stderr
    assert broker.load("calls") == {}  # no Kafka tool was run
