"""`publish_many` hands kafka-python the partition itself: it must be the one the producer's partitioner
picks for `publish`, so a customer's batch events and its other events stay on one partition, in order."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from prometeo.bus import EventProducer
from prometeo.contracts import topics
from prometeo.contracts.wire import EnvelopeEncoder
from tests.bus_helpers import read_topic, scaled
from tests.factories import booked

pytestmark = pytest.mark.integration


def test_a_batch_lands_where_single_publishes_land(broker: str, unique: Callable[[str], str]) -> None:
    run = unique("pm")
    customers = [f"ck_{run}_{i:03d}" for i in range(24)]
    producer = EventProducer(broker, "tests-publish-many")
    try:
        singles = [producer.publish(topics.ACCOUNT_EVENTS, booked(ck, "1.00")) for ck in customers]
        encoder = EnvelopeEncoder(datetime.now(UTC))
        batch = [
            encoder.encode(
                booked(ck, "2.00").typed(),
                event_id=str(uuid.uuid4()),
                occurred_at=datetime.now(UTC),
                customer_key=ck,
                source="tests",
            )
            for ck in customers
        ]
        futures = producer.publish_many(topics.ACCOUNT_EVENTS, batch)
        assert all(producer.wait_acks(singles + futures, deadline=time.monotonic() + scaled(10)))
    finally:
        producer.close()

    records = read_topic(
        broker,
        topics.ACCOUNT_EVENTS,
        min_count=2 * len(customers),
        match=lambda r: r.key.decode().startswith(f"ck_{run}_"),
    )
    partitions: dict[bytes, set[int]] = {}
    for record in records:
        partitions.setdefault(record.key, set()).add(record.partition)
        assert dict(record.headers)["event_type"] == b"transaction.booked"
    assert len(partitions) == len(customers)
    assert all(len(p) == 1 for p in partitions.values()), "a customer's records on one partition"
    assert len({p for ps in partitions.values() for p in ps}) > 1, "and customers spread over partitions"
