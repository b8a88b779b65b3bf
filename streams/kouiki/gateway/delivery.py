"""One submission, whichever way it arrived (a REST body or a portal upload): check every document,
send the valid ones this principal may write signed by the gateway's key, keep what happened."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from kouiki.config import Settings
from kouiki.contract.rules import Registry
from kouiki.gateway import signing, submissions
from kouiki.gateway.errors import ApiError
from kouiki.identity.principal import Principal
from kouiki.intake.files import Record
from kouiki.messaging import clients
from kouiki.messaging.clients import DeliveryError, Producer


class Kafka:
    """One producer for the process (thread-safe), created on the first submission."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._producer: Producer | None = None
        self._lock = threading.Lock()

    def producer(self) -> Producer:
        """The producer; DeliveryError when the broker does not answer now (the producer itself
        would only say so when each message timed out)."""
        if not clients.broker_answers(self.settings):
            raise DeliveryError(f"the broker at {self.settings.bootstrap_servers} does not answer")
        with self._lock:
            if self._producer is None:
                self._producer = clients.producer(self.settings, **{"client.id": "kouiki-gateway"})
            return self._producer

    def epochs(self) -> dict[str, str]:
        return submissions.epochs(lambda: clients.admin(self.settings))

    def close(self) -> None:
        with self._lock:
            if self._producer is not None:
                self._producer.close(timeout=10)
                self._producer = None


@dataclass(frozen=True)
class Delivered:
    submission_id: str
    results: list[submissions.DocumentResult]


def broker_unavailable(exc: Exception) -> ApiError:
    return ApiError(
        503,
        "broker_unavailable",
        f"the broker cannot be reached ({type(exc).__name__}); nothing was sent",
        "ブローカーに接続できません。何も送信されていません",
    )


def deliver(
    settings: Settings,
    kafka: Kafka,
    registry: Callable[[Settings], Registry],
    who: Principal,
    records: list[Record],
    *,
    source: str,
    content_type: str,
    body_bytes: int,
) -> Delivered:
    """Check, send and keep one submission (ApiError 503 when there is something to send and the
    broker cannot be reached: then nothing is sent or kept)."""
    results = submissions.check(records, who, registry(settings), settings)
    epochs: dict[str, str] = {}
    if any(r.key is not None for r in results):
        try:
            producer = kafka.producer()
        except DeliveryError as exc:
            raise broker_unavailable(exc) from exc
        submissions.send(results, producer, signing.gateway_key(settings))
        epochs = kafka.epochs()
    submission_id = submissions.save(
        settings, who, results, source=source, content_type=content_type, body_bytes=body_bytes, epoch_of=epochs
    )
    return Delivered(submission_id, results)
