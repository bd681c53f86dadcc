"""The account-event log as the replay and snapshot tools read it: a Kafka topic from its first
offset (partitions assigned, no consumer group, so nothing is committed and no live group moves),
or a JSONL file of envelopes exported from it. Erasures are honoured: an event ingested before a
customer's latest erasure never comes back."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition

from prometeo.contracts import Envelope, EventPayload, InvalidEvent, decode, topics
from prometeo.contracts.events import CustomerErasureRequestedV1

_MAX_EMPTY_POLLS = 20  # 10 s without records short of the end offsets: give up waiting


@dataclass
class LogStats:
    read: int = 0
    invalid: int = 0
    erased: int = 0
    erasures: dict[str, datetime] = field(default_factory=dict)


def topic_records(bootstrap: str, topic: str) -> tuple[int, Iterator[bytes]]:
    """(about how many records the topic holds now, their values from the first offset on)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=5_000,
        max_poll_records=2_000,
    )
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
    if not partitions:  # the topic does not exist (yet): an empty log
        consumer.close()
        return 0, iter(())
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    begin = consumer.beginning_offsets(partitions)
    end = consumer.end_offsets(partitions)
    total = sum(end[tp] - begin[tp] for tp in partitions)

    def values() -> Iterator[bytes]:
        # Read until every partition is past the end offsets taken at the start and a poll comes
        # back empty. End offsets are only a floor: some brokers (Tansu) report the last batch's
        # base offset, so records are never filtered by them.
        empty_polls = 0
        try:
            while empty_polls < _MAX_EMPTY_POLLS:
                batch = consumer.poll(timeout_ms=500)
                if not batch:
                    if all(consumer.position(tp) >= end[tp] for tp in partitions):
                        break
                    empty_polls += 1
                    continue
                empty_polls = 0
                for records in batch.values():
                    for record in records:
                        yield record.value
        finally:
            consumer.close()

    return total, values()


def jsonl_records(path: Path) -> tuple[int, Iterator[bytes]]:
    with path.open("rb") as f:
        total = sum(1 for line in f if line.strip())

    def values() -> Iterator[bytes]:
        with path.open("rb") as f:
            for line in f:
                if line.strip():
                    yield line

    return total, values()


def erasure_times(bootstrap: str | None, jsonl: Path | None) -> dict[str, datetime]:
    """Customer key → latest erasure request, from customer-erasure.v1 (or erasure envelopes in the file)."""
    _, raw = jsonl_records(jsonl) if jsonl else topic_records(bootstrap or "", topics.CUSTOMER_ERASURE)
    latest: dict[str, datetime] = {}
    for value in raw:
        try:
            envelope, payload = decode(value)
        except InvalidEvent:
            continue
        if isinstance(payload, CustomerErasureRequestedV1):
            seen = latest.get(envelope.customer_key)
            if seen is None or seen < envelope.occurred_at:
                latest[envelope.customer_key] = envelope.occurred_at
    return latest


def events(values: Iterable[bytes], stats: LogStats) -> Iterator[tuple[Envelope, EventPayload]]:
    """Decoded account events, minus undecodable records and what an erasure removed."""
    for value in values:
        stats.read += 1
        try:
            envelope, payload = decode(value)
        except InvalidEvent:
            stats.invalid += 1
            continue
        if isinstance(payload, CustomerErasureRequestedV1):
            continue
        erased_at = stats.erasures.get(envelope.customer_key)
        if erased_at is not None and envelope.ingested_at <= erased_at:
            stats.erased += 1
            continue
        yield envelope, payload
