"""The consumer loop against the real broker: poison messages go to the DLQ with their reason and
origin, the loop keeps going, retryable failures are retried instead of dead-lettered."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import pytest
from kafka import KafkaConsumer, TopicPartition

from prometeo.bus import ConsumerLoop, EventProducer, RetryableError
from prometeo.contracts import Envelope, EventPayload, ProductCode, new_event, topics
from prometeo.contracts.events import ProductHeldV1
from prometeo.settings import SharedSettings
from tests.bus_helpers import publish, read_to_end, read_topic, scaled, wait_until
from tests.factories import booked

pytestmark = pytest.mark.integration


def _settings(broker: str) -> SharedSettings:
    return SharedSettings(kafka_bootstrap_servers=broker, consumer_session_timeout_ms=1500, environment="test")


def _run_loop(broker: str, group: str, handler: Callable[[Envelope, EventPayload], None]) -> ConsumerLoop:
    loop = ConsumerLoop(
        _settings(broker), group, {topics.OUTCOMES: handler}, EventProducer(broker, group), retry_pause_s=0.1
    )
    loop.start()
    return loop


def test_poison_message_is_dead_lettered_and_the_loop_moves_on(broker: str, unique: Callable[[str], str]) -> None:
    ck = unique("ck_poison")
    seen: list[str] = []
    loop = _run_loop(
        broker, unique("grp"), lambda env, _: seen.append(env.customer_key) if env.customer_key == ck else None
    )
    try:
        producer = EventProducer(broker, "tests")
        producer.publish_raw(topics.OUTCOMES, ck.encode(), b'{"broken json', [])
        producer.flush()
        producer.close()
        publish(broker, topics.OUTCOMES, [booked(ck)])
        wait_until(lambda: seen == [ck])
    finally:
        loop.stop()
    dead = read_topic(broker, topics.dead_letter_topic(topics.OUTCOMES), match=lambda r: r.key == ck.encode())
    headers = dict(dead[0].headers)
    assert dead[0].value == b'{"broken json'
    assert headers["dlq.origin_topic"] == topics.OUTCOMES.encode()
    assert b"envelope invalid" in headers["dlq.reason"]
    assert headers["dlq.origin_offset"].isdigit()


def test_retryable_failure_is_retried_not_dead_lettered(broker: str, unique: Callable[[str], str]) -> None:
    ck = unique("ck_retry")
    attempts: list[int] = []
    done = threading.Event()

    def flaky(env: Envelope, _: EventPayload) -> None:
        if env.customer_key != ck:
            return
        attempts.append(1)
        if len(attempts) < 3:
            raise RetryableError("redis down")
        done.set()

    loop = _run_loop(broker, unique("grp"), flaky)
    try:
        publish(broker, topics.OUTCOMES, [booked(ck)])
        assert done.wait(scaled(20))
    finally:
        loop.stop()
    assert len(attempts) == 3
    assert not read_to_end(broker, topics.dead_letter_topic(topics.OUTCOMES), match=lambda r: r.key == ck.encode())


def test_handler_error_dead_letters_with_error_class(broker: str, unique: Callable[[str], str]) -> None:
    ck = unique("ck_handler")

    def explode(env: Envelope, _: EventPayload) -> None:
        if env.customer_key == ck:
            raise ValueError("cannot apply this")

    loop = _run_loop(broker, unique("grp"), explode)
    try:
        publish(broker, topics.OUTCOMES, [booked(ck)])
        dead = read_topic(broker, topics.dead_letter_topic(topics.OUTCOMES), match=lambda r: r.key == ck.encode())
    finally:
        loop.stop()
    assert dict(dead[0].headers)["dlq.error_class"] == b"ValueError"
    assert loop.error is None
    # read_to_end (the "nothing was dead-lettered" check above) does see a record that is there.
    assert (
        len(read_to_end(broker, topics.dead_letter_topic(topics.OUTCOMES), match=lambda r: r.key == ck.encode())) == 1
    )


def test_a_failing_batch_write_dead_letters_only_the_poison_record(broker: str, unique: Callable[[str], str]) -> None:
    """Buffered handlers write at batch end; a record that breaks the write is found and dead-lettered
    alone, the rest of its batch is applied, and the consumer keeps running."""
    good, poison = unique("ck_good"), unique("ck_poison")
    pending: list[str] = []
    applied: list[str] = []

    def buffer(env: Envelope, _: EventPayload) -> None:
        if env.customer_key in (good, poison):
            pending.append(env.customer_key)

    def write_batch() -> None:
        batch, pending[:] = list(pending), []
        if poison in batch:
            raise ValueError("the store refused this batch")
        applied.extend(batch)

    loop = ConsumerLoop(
        _settings(broker),
        unique("grp"),
        {topics.OUTCOMES: buffer},
        EventProducer(broker, "t"),
        retry_pause_s=0.1,
        on_batch_end=write_batch,
    )
    loop.start()
    try:
        publish(broker, topics.OUTCOMES, [booked(good), booked(poison), booked(good)])
        wait_until(lambda: applied.count(good) == 2)
        dead = read_topic(broker, topics.dead_letter_topic(topics.OUTCOMES), match=lambda r: r.key == poison.encode())
    finally:
        loop.stop()
    assert b"ValueError" in dict(dead[0].headers)["dlq.reason"]
    assert poison not in applied and loop.error is None


def test_a_batch_spans_polls_within_its_window_and_a_failed_one_replays_whole(
    broker: str, unique: Callable[[str], str]
) -> None:
    """With a batch window the batch-end hook runs once for several polls' records (up to the
    window's record cap), and a retryable failure of the hook rewinds to the first of them."""
    ck = unique("ck_window")
    ours: list[str] = []  # our records handled since the last hook call
    batches: list[list[str]] = []
    failed = threading.Event()

    def buffer(env: Envelope, _: EventPayload) -> None:
        if env.customer_key == ck:
            ours.append(str(env.payload["transaction_id"]))

    def end() -> None:
        batch, ours[:] = list(ours), []
        if batch and not failed.is_set():
            failed.set()
            raise RetryableError("redis down")  # the whole batch comes again
        if batch:
            batches.append(batch)

    sources = [f"s{i}" for i in range(6)]
    publish(broker, topics.OUTCOMES, [booked(ck, txn_id=s) for s in sources])
    settings = _settings(broker).model_copy(update={"consumer_max_poll_records": 2})
    loop = ConsumerLoop(
        settings,
        unique("grp"),
        {topics.OUTCOMES: buffer},
        EventProducer(broker, "t"),
        retry_pause_s=0.1,
        on_batch_end=end,
        batch_window_s=3.0,
        batch_max_records=1_000_000,
    )
    loop.start()
    try:
        wait_until(lambda: sorted(s for b in batches for s in b) == sources, timeout=30)
    finally:
        loop.stop()
    # Two-record polls, yet batches of more: and after the failed one every record came again, once.
    assert failed.is_set() and max(len(b) for b in batches) > 2


def test_replicas_beyond_the_partition_count_join_the_group_as_ready_stand_bys(
    broker: str, unique: Callable[[str], str]
) -> None:
    group = unique("grp")
    loops = [_run_loop(broker, group, lambda env, _: None) for _ in range(4)]  # outcomes.v1 has 3 partitions
    try:
        for loop in loops:
            assert loop.assigned.wait(scaled(30)), "every member hears from the group, with or without partitions"
    finally:
        for loop in loops:
            loop.stop()


def test_a_loop_acting_on_some_types_passes_over_the_rest_and_dead_letters_what_it_acts_on(
    broker: str, unique: Callable[[str], str]
) -> None:
    """`acts_on`: records of other registered types never reach the handler (nor are they validated: the
    consumers acting on them dead-letter them); an invalid record of a type it acts on, or bytes naming no
    registered type, go to the dead-letter topic with their reason as before; every offset is committed."""
    ck, group = unique("ck_acts_on"), unique("grp")
    seen: list[str] = []
    loop = ConsumerLoop(
        _settings(broker),
        group,
        {topics.OUTCOMES: lambda env, _: seen.append(env.type) if env.customer_key == ck else None},
        EventProducer(broker, group),
        retry_pause_s=0.1,
        acts_on={topics.OUTCOMES: {ProductHeldV1.event_type}},
    )
    held = new_event(ProductHeldV1(product=ProductCode.SAVINGS), customer_key=ck, source="tests")
    bad_held = json.loads(held.to_bytes())
    bad_held["payload"]["product"] = "no-such-product"
    bad_booking = json.loads(booked(ck).to_bytes())
    bad_booking["payload"]["amount"] = "-1"
    raws = [
        booked(ck).to_bytes(),  # passed over
        json.dumps(bad_booking).encode(),  # passed over: not this consumer's to judge
        b'{"broken json',  # dead-lettered: names no type
        json.dumps({**bad_held, "type": "no.such.type"}).encode(),  # dead-lettered: unknown type
        json.dumps(bad_held).encode(),  # dead-lettered: a type it acts on, invalid payload
        held.to_bytes(),  # handled
    ]
    loop.start()
    try:
        producer = EventProducer(broker, "tests")
        futures = [producer.publish_raw(topics.OUTCOMES, ck.encode(), raw, []) for raw in raws]
        last = futures[-1].get(timeout=scaled(10))
        producer.close()
        wait_until(lambda: seen == ["product.held"])
        checker = KafkaConsumer(bootstrap_servers=broker, group_id=group, enable_auto_commit=False)
        try:
            partition = TopicPartition(topics.OUTCOMES, last.partition)
            wait_until(lambda: (checker.committed(partition) or 0) > last.offset)
        finally:
            checker.close()
    finally:
        loop.stop()
    dead = read_topic(
        broker, topics.dead_letter_topic(topics.OUTCOMES), min_count=3, match=lambda r: r.key == ck.encode()
    )
    reasons = sorted(dict(r.headers)["dlq.reason"].decode() for r in dead)
    assert len(dead) == 3 and {dict(r.headers)["dlq.consumer_group"] for r in dead} == {group.encode()}
    assert reasons[0].startswith("envelope invalid")
    assert "unknown event type 'no.such.type'" in reasons[2] and "product.held.v1 payload invalid" in reasons[1]
    assert seen == ["product.held"]
