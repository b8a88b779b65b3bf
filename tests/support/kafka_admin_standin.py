#!/usr/bin/env python3
"""Stand-ins for Apache Kafka's admin scripts (kafka-topics.sh, kafka-configs.sh, kafka-acls.sh,
kafka-broker-api-versions.sh), for testing compose's kafka-init without a Kafka broker, which cannot
run on this machine. They keep the broker's state the script changes (topics, SCRAM users, ACLs) in
JSON files under $STANDIN_STATE and record every call's arguments and environment.

Only the options kafka-init uses are understood; --list prints ACLs in kafka-acls.sh's format."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

STATE = Path(os.environ["STANDIN_STATE"])


def load(name: str, default: object) -> object:
    path = STATE / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else default


def save(name: str, value: object) -> None:
    (STATE / f"{name}.json").write_text(json.dumps(value, sort_keys=True))


def values(args: list[str], option: str) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args) if a == option]


def resources(args: list[str]) -> list[str]:
    found = [f"topic:{t}" for t in values(args, "--topic")] + [f"group:{g}" for g in values(args, "--group")]
    if "--cluster" in args:
        found.append("cluster:kafka-cluster")
    pattern = (values(args, "--resource-pattern-type") or ["literal"])[0]
    return [f"{r}:{pattern}" for r in found]


def matches(resource: str, pattern: str, name: str) -> bool:
    if pattern == "literal":
        return resource == name or resource == "*"
    return name.startswith(resource)  # prefixed


def acls(args: list[str]) -> None:
    store: list[list[str]] = load("acls", [])  # type: ignore[assignment]
    aces = [
        [principal, op.upper(), resource]
        for principal in values(args, "--allow-principal")
        for op in values(args, "--operation")
        for resource in resources(args)
    ]
    if "--add" in args:
        store += [ace for ace in aces if ace not in store]
    elif "--remove" in args:
        store = [ace for ace in store if ace not in aces]
    elif "--list" in args:
        (topic,) = values(args, "--topic")
        match = values(args, "--resource-pattern-type") == ["match"]
        for principal, op, resource in store:
            kind, name, pattern = resource.split(":")
            listed = matches(name, pattern, topic) if match else (name == topic and pattern == "literal")
            if kind == "topic" and listed:
                print(f"\t(principal={principal}, host=*, operation={op}, permissionType=ALLOW)")
    save("acls", store)


def configs(args: list[str]) -> None:
    users: dict[str, str] = load("users", {})  # type: ignore[assignment]
    (name,) = values(args, "--entity-name")
    if "--describe" in args:  # a broker's configuration, as kafka-configs.sh --all prints it
        authorizer = os.environ.get("STANDIN_AUTHORIZER", "org.apache.kafka.metadata.authorizer.StandardAuthorizer")
        print(f"All configs for broker {name} are:")
        print(f"  authorizer.class.name={authorizer} sensitive=false synonyms={{}}")
        return
    if "--add-config-file" in args:
        users[name] = Path(values(args, "--add-config-file")[0]).read_text()
    elif "--delete-config" in args:
        if name not in users:
            sys.exit(1)
        del users[name]
    save("users", users)


def topics(args: list[str]) -> None:
    found: dict[str, int] = load("topics", {})  # type: ignore[assignment]
    (name,) = values(args, "--topic")
    found.setdefault(name, int(values(args, "--partitions")[0]))
    save("topics", found)


def main() -> None:
    tool, args = sys.argv[1], sys.argv[2:]  # the wrapper named after the tool passes its name first
    config = values(args, "--command-config")
    calls: list[dict[str, object]] = load("calls", [])  # type: ignore[assignment]
    calls.append(
        {
            "tool": tool,
            "argv": args,
            "env": dict(os.environ),
            "command_config": Path(config[0]).read_text() if config else None,
            "command_config_mode": oct(Path(config[0]).stat().st_mode & 0o777) if config else None,
        }
    )
    save("calls", calls)
    {
        "kafka-acls.sh": acls,
        "kafka-configs.sh": configs,
        "kafka-topics.sh": topics,
        "kafka-broker-api-versions.sh": lambda _args: None,
    }[tool](args)


if __name__ == "__main__":
    main()
