"""``kouiki quarantine``: set aside the record batch a partition is stuck on, so landing resumes after it.

The batch is fetched as raw bytes with a FetchRequest of our own, never decoded (decoding is what
fails), and then, in this order:

1. saved to ``<data_dir>/quarantine/<topic>/epoch=<e>/partition=<p>/<base>-<last>.batch`` with its
   SHA-256 (never overwritten: a second attempt must find the same bytes);
2. produced unchanged to the dead-letter topic with Kafka Connect style error headers naming the
   source topic, partition and offsets and the reason, and acknowledged;
3. written to the lake as one file covering exactly the batch's offsets, each row
   ``_status = 'dead_letter'`` with error class ``quarantined_batch``, so consumed = landed +
   dead-lettered still holds and the lander resumes one past the batch;
4. recorded (who, when, why, the hash) in the append-only ``<data_dir>/run/quarantine.jsonl``.

Only the batch holding the partition's first offset not landed can be set aside: anything else
would leave a gap the lander would never come back to.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
import struct
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient, TopicPartition
from kafka.protocol.consumer import FetchRequest

from kouiki.config import Settings
from kouiki.lake import files as lake
from kouiki.landing import stuck as stuck_state
from kouiki.landing.dead_letters import DeadLetter, Verdict, dead_letter_headers
from kouiki.messaging import clients
from kouiki.messaging.topics import DEADLETTER_TOPIC
from kouiki.messaging.watermarks import topic_epochs

QUARANTINED_BATCH = "quarantined_batch"  # the lake's _error_class and the dead letter's exception class
FETCH_BYTES = 64 * 1024 * 1024
# RecordBatch header (magic 2): baseOffset int64, length int32, partitionLeaderEpoch int32, magic int8,
# crc uint32, attributes int16, lastOffsetDelta int32, firstTimestamp int64 (DefaultRecordBatch).
_HEADER = struct.Struct(">qiibIhiq")
_LOG_OVERHEAD = 12  # baseOffset and length precede the bytes that length counts


class QuarantineError(RuntimeError):
    """The batch cannot be set aside; the message says why in Japanese and English."""


@dataclass(frozen=True)
class RawBatch:
    base_offset: int
    last_offset: int
    first_timestamp_ms: int
    data: bytes


@dataclass(frozen=True)
class QuarantineRecord:
    at: str
    operator: str
    topic: str
    epoch: str
    partition: int
    base_offset: int
    last_offset: int
    records: int
    sha256: str
    file: str
    reason: str
    error: str | None  # what the lander recorded for the partition, if it was stuck


def split_batches(records: bytes) -> list[RawBatch]:
    """The record batches in a fetched ``records`` field, by their headers alone (a trailing partial
    batch, which a broker may return at the size limit, is left out)."""
    batches = []
    at = 0
    while at + _HEADER.size <= len(records):
        base, length, _epoch, magic, _crc, _attrs, last_delta, first_ts = _HEADER.unpack_from(records, at)
        end = at + _LOG_OVERHEAD + length
        if end > len(records):
            break
        if magic != 2:  # noqa: PLR2004 - message format v2 (Kafka 0.11+), the only one the lander reads
            raise QuarantineError(f"magic {magic} のバッチは扱えません / a batch of magic {magic} is not supported")
        batches.append(RawBatch(base, base + last_delta, first_ts, bytes(records[at:end])))
        at = end
    return batches


def fetch_raw_batch(admin: KafkaAdminClient, topic: str, partition: int, offset: int) -> RawBatch:
    """The batch holding ``offset``, as the broker stores it. kafka-python's admin client has no fetch,
    so the request goes through its connection manager (``_manager``), on its IO thread."""
    fetch_topic = FetchRequest.FetchTopic
    request = FetchRequest(
        replica_id=-1,
        max_wait_ms=500,
        min_bytes=1,
        max_bytes=FETCH_BYTES,
        isolation_level=0,
        session_id=0,
        session_epoch=-1,
        topics=[
            fetch_topic(
                topic=topic,
                partitions=[
                    fetch_topic.FetchPartition(
                        partition=partition, fetch_offset=offset, partition_max_bytes=FETCH_BYTES
                    )
                ],
            )
        ],
        forgotten_topics_data=[],
        rack_id="",
        max_version=12,  # v13 names topics by id
    )
    manager = admin._manager  # noqa: SLF001 - see the docstring
    leader = manager.cluster.leader_for_partition(TopicPartition(topic, partition))

    async def send() -> Any:
        return await manager.send(request, node_id=leader if leader not in (None, -1) else None)

    response = manager.run(send)
    data = response.responses[0].partitions[0]
    if data.error_code:
        raise QuarantineError(f"fetch of {topic}[{partition}] at {offset} failed: error code {data.error_code}")
    for batch in split_batches(bytes(data.records or b"")):
        if batch.base_offset <= offset <= batch.last_offset:
            return batch
    raise QuarantineError(
        f"{topic}[{partition}] にオフセット {offset} を含むバッチがありません / no batch holds offset {offset}"
    )


def quarantine(settings: Settings, topic: str, partition: int, offset: int, reason: str) -> QuarantineRecord:
    """Set aside the batch holding ``offset`` (see the module docstring)."""
    admin = clients.admin(settings)
    try:
        epoch = topic_epochs(admin, [topic])[topic]
        folder = lake.partition_dir(settings.raw_dir, topic, epoch, partition)
        resume = lake.next_offset(folder)
        batch = fetch_raw_batch(admin, topic, partition, offset)
    finally:
        admin.close()
    if batch.base_offset != resume:
        raise QuarantineError(
            f"{topic}[{partition}] の取り込みはオフセット {resume} で止まっています。退避できるのはそのバッチだけです"
            f" / landing of {topic}[{partition}] resumes at offset {resume}; only the batch holding it can be"
            f" quarantined, not the batch {batch.base_offset}-{batch.last_offset}"
        )
    digest = hashlib.sha256(batch.data).hexdigest()
    saved = _save(settings, topic, epoch, partition, batch, digest)
    stuck = next((e for e in stuck_state.load(settings) if e.key == (topic, epoch, partition)), None)
    error = f"{stuck.error_class}: {stuck.error_message}" if stuck is not None else None
    message = f"{reason} (sha256 {digest}; {error or 'no lander error recorded'})"[:2000]
    _dead_letter(settings, topic, partition, batch, digest, message)
    count = batch.last_offset - batch.base_offset + 1
    lake.write_columns(
        folder,
        topic,
        epoch,
        partition,
        {
            "_offset": list(range(batch.base_offset, batch.last_offset + 1)),
            "_kafka_ts": [batch.first_timestamp_ms] * count,
            "_key": [None] * count,
            "_value": [b""] * count,  # the bytes are in the quarantine file and on the dead-letter topic
            "_status": [lake.DEAD_LETTER] * count,
            "_error_class": [QUARANTINED_BATCH] * count,
            "_error_message": [message] * count,
        },
        datetime.now(UTC),
    )
    record = QuarantineRecord(
        at=datetime.now(UTC).isoformat(timespec="seconds"),
        operator=f"{getpass.getuser()}@{socket.gethostname()}",
        topic=topic,
        epoch=epoch,
        partition=partition,
        base_offset=batch.base_offset,
        last_offset=batch.last_offset,
        records=count,
        sha256=digest,
        file=str(saved),
        reason=reason,
        error=error,
    )
    log_path = settings.run_dir / "quarantine.jsonl"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")
    return record


def _save(settings: Settings, topic: str, epoch: str, partition: int, batch: RawBatch, digest: str) -> Path:
    """Write the batch once; a later attempt (after a crash) must find the same bytes there."""
    folder = settings.data_dir / "quarantine" / topic / f"epoch={epoch}" / f"partition={partition}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{batch.base_offset:012d}-{batch.last_offset:012d}.batch"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    except FileExistsError:
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise QuarantineError(
                f"{path} は別の内容で既に存在します / {path} already exists with other bytes; it is never overwritten"
            ) from None
        return path
    with os.fdopen(fd, "wb") as f:
        f.write(batch.data)
        f.flush()
        os.fsync(f.fileno())
    path.with_name(path.name + ".sha256").write_text(f"{digest}  {path.name}\n", encoding="ascii")
    return path


def _dead_letter(settings: Settings, topic: str, partition: int, batch: RawBatch, digest: str, message: str) -> None:
    """The raw batch, unchanged, on the dead-letter topic; acknowledged before the lake moves on."""
    dead = DeadLetter(
        batch.base_offset,
        None,
        batch.data,
        [
            ("kouiki.quarantine.last_offset", str(batch.last_offset).encode()),
            ("kouiki.quarantine.sha256", digest.encode()),
        ],
        Verdict(lake.DEAD_LETTER, QUARANTINED_BATCH, message),
    )
    producer = clients.producer(settings, **{"message.max.bytes": clients.DEADLETTER_MAX_BYTES})
    sent = producer.send(DEADLETTER_TOPIC, value=batch.data, headers=dead_letter_headers(topic, partition, dead))
    producer.flush(timeout=30)
    sent.get()
