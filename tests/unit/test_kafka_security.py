"""Every Kafka client of the platform authenticates as the principal its settings name: nothing on the
local broker (PLAINTEXT, it has no SASL), SASL/SCRAM on the production broker. The clients themselves
check the settings here; the production broker (Apache Kafka with SASL and ACLs) cannot run on this
machine, so the handshake itself is not exercised (docs/operations.md)."""

from __future__ import annotations

import json

import confluent_kafka
import pytest
from kafka import KafkaConsumer
from kafka.errors import KafkaConfigurationError

from kouiki.config import ConfigError, Settings
from kouiki.messaging import clients
from kouiki.orchestration.intake_trigger import CONN_ID, connection_variable

SCRAM = Settings(
    bootstrap_servers="127.0.0.1:1",
    kafka_security_protocol="SASL_PLAINTEXT",
    kafka_username="lander",
    kafka_password="s3cret",
)


def test_the_local_broker_needs_no_authentication() -> None:
    assert clients.librdkafka_security(Settings()) == {}
    assert clients.kafka_python_security(Settings()) == {}


def test_sasl_settings_reach_both_client_libraries() -> None:
    assert clients.librdkafka_security(SCRAM) == {
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "lander",
        "sasl.password": "s3cret",
    }
    assert clients.kafka_python_security(SCRAM) == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "lander",
        "sasl_plain_password": "s3cret",
    }
    tls = Settings(
        kafka_security_protocol="sasl_ssl", kafka_username="u", kafka_password="p", kafka_ca_file="/run/secrets/ca.pem"
    )
    assert clients.librdkafka_security(tls)["ssl.ca.location"] == "/run/secrets/ca.pem"
    assert clients.kafka_python_security(tls)["ssl_cafile"] == "/run/secrets/ca.pem"


def test_the_libraries_accept_them() -> None:
    """librdkafka checks its settings (and that it was built with SCRAM) when a client is created,
    kafka-python the names of its keyword arguments; neither connects here."""
    confluent_kafka.Producer({"bootstrap.servers": "127.0.0.1:1", **clients.librdkafka_security(SCRAM)})
    with pytest.raises(confluent_kafka.KafkaException, match="SCRAM-SHA-999"):
        wrong = clients.librdkafka_security(SCRAM) | {"sasl.mechanism": "SCRAM-SHA-999"}
        confluent_kafka.Producer({"bootstrap.servers": "127.0.0.1:1", **wrong})
    KafkaConsumer(bootstrap_servers="127.0.0.1:1", api_version=(3, 0), **clients.kafka_python_security(SCRAM)).close()
    with pytest.raises(KafkaConfigurationError):
        KafkaConsumer(bootstrap_servers="127.0.0.1:1", api_version=(3, 0), sasl_username="lander")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kafka_security_protocol": "SSL"}, "not one of"),
        ({"kafka_password": ""}, "KOUIKI_KAFKA_PASSWORD"),
        ({"kafka_username": ""}, "KOUIKI_KAFKA_USERNAME"),
    ],
)
def test_an_incomplete_setting_is_refused_before_anything_connects(changes: dict[str, str], message: str) -> None:
    import dataclasses

    broken = dataclasses.replace(SCRAM, **changes)
    with pytest.raises(ConfigError, match=message):
        clients.librdkafka_security(broken)
    with pytest.raises(ConfigError, match=message):
        clients.producer(broken)


def test_the_airflow_trigger_connection_authenticates_too() -> None:
    (value,) = connection_variable(SCRAM).values()
    extra = json.loads(value)["extra"]
    assert {k: extra[k] for k in ("security.protocol", "sasl.username", "sasl.password")} == {
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.username": "lander",
        "sasl.password": "s3cret",
    }
    assert f"AIRFLOW_CONN_{CONN_ID.upper()}" in connection_variable(SCRAM)
