"""The platform venv lets kafka-python decode every standard Kafka codec; without a codec library the
lander dies on the first batch compressed with it (``UnsupportedCodecError``)."""

from __future__ import annotations

import gzip
from collections.abc import Callable

import cramjam
import lz4.frame
import pytest
import zstandard
from kafka import codec

PAYLOAD = ('{"event_id": "0", "progress": "進捗"}' * 200).encode("utf-8")


def test_kafka_python_finds_every_codec_library() -> None:
    assert (codec.has_gzip(), codec.has_snappy(), codec.has_lz4(), codec.has_zstd()) == (True, True, True, True)


@pytest.mark.parametrize(
    ("decode", "compressed"),
    [
        (codec.gzip_decode, gzip.compress(PAYLOAD)),
        (codec.snappy_decode, bytes(cramjam.snappy.compress_raw(PAYLOAD))),  # raw, as librdkafka writes it
        (codec.snappy_decode, codec.snappy_encode(PAYLOAD)),  # xerial-framed, as kafka-python and Java write it
        (codec.lz4_decode, lz4.frame.compress(PAYLOAD, block_linked=False)),
        (codec.zstd_decode, zstandard.ZstdCompressor().compress(PAYLOAD)),
    ],
    ids=["gzip", "snappy-raw", "snappy-xerial", "lz4", "zstd"],
)
def test_each_codec_decodes(decode: Callable[[bytes], bytes], compressed: bytes) -> None:
    assert decode(compressed) == PAYLOAD
