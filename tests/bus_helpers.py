"""Test helpers over the real broker: publish envelopes, read a topic (or its DLQ) to the end."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Literal, TypeVar

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from prometeo.bus import EventProducer
from prometeo.contracts import Envelope, EventPayload, decode
from prometeo_dev.servers import scaled

__all__ = ["payload_as", "publish", "read_to_end", "read_topic", "scaled", "wait_until"]

T = TypeVar("T")
P = TypeVar("P", bound=EventPayload)
RecordMatch = Callable[[ConsumerRecord], bool]


def publish(broker: str, topic: str, events: list[Envelope]) -> None:
    producer = EventProducer(broker, "tests")
    try:
        producer.publish_all(topic, events)
    finally:
        producer.close()


def read_topic(
    broker: str, topic: str, *, min_count: int = 1, timeout: float = 20.0, match: RecordMatch | None = None
) -> list[ConsumerRecord]:
    """Read `topic` from the beginning until at least `min_count` records (filtered by `match`);
    `timeout` is stretched by PROMETEO_TEST_TIMEOUT_SCALE."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=broker,
        group_id=f"reader-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=1500,
        heartbeat_interval_ms=500,
    )
    found: list[ConsumerRecord] = []
    deadline = time.monotonic() + scaled(timeout)
    try:
        while time.monotonic() < deadline and len(found) < min_count:
            for records in consumer.poll(timeout_ms=300).values():
                found.extend(r for r in records if match is None or match(r))
    finally:
        consumer.close()
    return found


def payload_as(record: ConsumerRecord, kind: type[P]) -> P:
    """The record's payload, checked to be a `kind` (decode() types it as any EventPayload)."""
    _, payload = decode(record.value)
    assert isinstance(payload, kind), f"{type(payload).__name__} is not {kind.__name__}"
    return payload


def read_to_end(
    broker: str, topic: str, *, match: RecordMatch | None = None, timeout: float = 20.0
) -> list[ConsumerRecord]:
    """Every record on `topic` up to its end offsets at the call (filtered by `match`): to show that
    nothing was written, read what is there instead of waiting a fixed time for something to arrive."""
    consumer = KafkaConsumer(bootstrap_servers=broker, enable_auto_commit=False)
    found: list[ConsumerRecord] = []
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        assert partitions, f"topic {topic} has no partitions"
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        deadline = time.monotonic() + scaled(timeout)
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            assert time.monotonic() < deadline, f"{topic} not read to its end within {scaled(timeout):g}s"
            for records in consumer.poll(timeout_ms=300).values():
                found.extend(r for r in records if match is None or match(r))
    finally:
        consumer.close()
    return found


def wait_until(predicate: Callable[[], T | Literal[False] | None], timeout: float = 20.0, interval: float = 0.1) -> T:
    """Poll `predicate` until it returns something truthy (returned); `timeout` is stretched by
    PROMETEO_TEST_TIMEOUT_SCALE. The only place tests pause: between polls of a condition."""
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout:g}s")
