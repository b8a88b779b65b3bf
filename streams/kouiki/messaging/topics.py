"""The platform's topics and which document goes where, under which key."""

from __future__ import annotations

from typing import Any

REGISTRY_TOPIC = "kouiki.registry.v1"
REPORTS_TOPIC = "kouiki.reports.v1"
DEADLETTER_TOPIC = "kouiki.deadletter.v1"
INGEST_TOPICS = (REGISTRY_TOPIC, REPORTS_TOPIC)
TOPIC_PARTITIONS = {REGISTRY_TOPIC: 3, REPORTS_TOPIC: 3, DEADLETTER_TOPIC: 1}


def topic_for(kind: str) -> str:
    """Registrations (consortium, project) go to the registry topic, quarterly reports to the reports topic."""
    return REPORTS_TOPIC if kind == "report" else REGISTRY_TOPIC


def key_for(doc: Any) -> str:
    """The natural code a document is keyed by. Registrations are keyed by the consortium, so a
    consortium and its projects share a partition and are read in the order they were sent;
    reports by the project, so one project's reports stay in order."""
    # Imported here: the topic names above are read by commands that must start fast (kouiki ingest).
    from kouiki.contract import model
    from kouiki.contract.check import kind_of

    if isinstance(doc, dict):
        return str(doc["project_code"] if kind_of(doc) == "report" else doc["consortium_code"])
    return str(doc.project_code if isinstance(doc, model.Report) else doc.consortium_code)
