"""next-best-action's scores consumer (issue #12): scores.v1 events through the real `ConsumerLoop` and
`ScoresHandler` on a local broker and Redis, decisions/s against a consume-only loop on the same topic
in the same run. `python -m benchmarks decisions`.

The batched consumer (a poll decided at its end, `ScoresHandler.end`) is measured beside the same
handler driven one record at a time (`end` after every record), which pays the per-decision round
trips and broker ack the consumer paid before the batching."""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Callable

import redis
from kafka import KafkaConsumer

from benchmarks.harness import Figure, broker_and_redis
from next_best_action.consumers.scores import ScoresHandler
from next_best_action.policy_source import PolicySource
from next_best_action.response_store import LeverStore, ResponseStore
from next_best_action.settings import DEFAULT_POLICY
from next_best_action.store import NbaStore
from prometeo import keys
from prometeo.bus import ConsumerLoop, EventProducer
from prometeo.contracts import Channel, Envelope, EventPayload, ProductCode, new_event, topics
from prometeo.contracts.events import ProductScore, ReasonCode, ScoresComputedV1
from prometeo.settings import SharedSettings

EVENTS = int(os.environ.get("BENCH_DECISION_EVENTS", "2000"))
CUSTOMERS = int(os.environ.get("BENCH_DECISION_CUSTOMERS", "10000"))
TIMEOUT_S = 600.0


def _scores(rng: random.Random) -> ScoresComputedV1:
    reason = ReasonCode(code="salary_inflow", text_en="Salary", text_es="Salario", weight=0.4)
    products = (ProductCode.CREDIT_CARD, ProductCode.SAVINGS, ProductCode.AUTO_INSURANCE, ProductCode.PERSONAL_LOAN)
    return ScoresComputedV1(
        model_name="prometeo-propensity",
        model_version="bench",
        feature_set_version="customer-features.v1",
        scores=[ProductScore(product=p, propensity=round(rng.random(), 3), reasons=[reason]) for p in products],
        held_products=[],
        held_elsewhere=[],
        profile={"digital_archetype": rng.choice(["activated", "emerging", "experimenting"]), "age_band": "35-44"},
        features={},
    )


def _consume_only(bootstrap: str, n: int) -> float:
    consumer = KafkaConsumer(
        topics.SCORES,
        bootstrap_servers=bootstrap,
        group_id=uuid.uuid4().hex,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=500,
    )
    seen, started = 0, None
    while seen < n:
        for records in consumer.poll(timeout_ms=500).values():
            started = started or time.perf_counter()
            seen += len(records)
            consumer.commit()
    elapsed = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
    return n / elapsed


def _decide(bootstrap: str, client: redis.Redis, last: Envelope, batched: bool, prefix: str) -> tuple[float, int]:
    """Decisions/s through the real consumer loop; and how many decisions were published."""
    for key in client.scan_iter(match="nba:event:*", count=1000):
        client.delete(key)
    for key in client.scan_iter(match="nba:volume:*", count=1000):
        client.delete(key)
    for key in client.scan_iter(match="nba:reservation:*", count=1000):
        client.delete(key)
    store = NbaStore(client, processed_ttl_s=3600, scores_ttl_s=3600, contact_retention_days=30, erased_ttl_s=3600)
    producer = EventProducer(bootstrap, f"bench-{prefix}", linger_ms=0)
    handler = ScoresHandler(
        store, PolicySource(DEFAULT_POLICY, 60), producer, LeverStore(client), ResponseStore(client, retention_s=3600)
    )
    end: Callable[[], None] | None = getattr(handler, "end", None)

    def one_at_a_time(envelope: Envelope, payload: EventPayload) -> None:
        handler(envelope, payload)
        if end is not None:
            end()

    settings = SharedSettings(kafka_bootstrap_servers=bootstrap, consumer_session_timeout_ms=1500, environment="test")
    loop = ConsumerLoop(
        settings,
        f"bench-{prefix}-{uuid.uuid4().hex[:6]}",
        {topics.SCORES: handler if batched else one_at_a_time},
        producer,
        on_batch_end=end if batched else None,
    )
    marker = keys.processed_event(keys.NBA, str(last.event_id))
    loop.start()
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while not _any_marker(client):
            if time.monotonic() > deadline:
                raise TimeoutError("no decision")
            time.sleep(0.01)
        started = time.perf_counter()
        while not client.exists(marker):
            if time.monotonic() > deadline or (loop.error is not None and not loop.alive):
                raise TimeoutError(f"the consumer did not finish: {loop.error!r}")
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
        decided = sum(1 for _ in client.scan_iter(match="nba:event:*", count=1000))
    finally:
        loop.stop()
        producer.close()
    return decided / elapsed, decided


def _any_marker(client: redis.Redis) -> bool:
    return next(iter(client.scan_iter(match="nba:event:*", count=1000)), None) is not None


def run() -> list[Figure]:
    rng = random.Random(12)
    with broker_and_redis() as (bootstrap, redis_url):
        client = redis.Redis.from_url(redis_url)
        customers = [f"ck_bench_{i:06d}" for i in range(CUSTOMERS)]
        store = NbaStore(client, processed_ttl_s=3600, scores_ttl_s=3600, contact_retention_days=30, erased_ttl_s=3600)
        for ck in customers:
            store.marketing.grant(ck, "consent-1", list(Channel))
            client.hset(keys.customer(keys.NBA, ck, "purposes"), "consent-1", "marketing")
        producer = EventProducer(bootstrap, "bench")
        last = None
        for _ in range(EVENTS):
            last = new_event(_scores(rng), customer_key=rng.choice(customers), source="bench")
            producer.publish(topics.SCORES, last)
        producer.flush()
        producer.close()
        assert last is not None
        consume_only = _consume_only(bootstrap, EVENTS)
        # The same events and customer state each time: the scores kept are deleted between runs (a
        # later run would otherwise find them superseding nothing, which it does not).
        one_rate, one_n = _decide(bootstrap, client, last, batched=False, prefix="one")
        _reset_customers(client)
        batch_rate, batch_n = _decide(bootstrap, client, last, batched=True, prefix="batch")
        client.close()
    return [
        Figure(f"nba scores → decision, one at a time ({one_n})", one_rate, "dec/s", "consume-only loop", consume_only),
        Figure(
            f"nba scores → decision, batched poll ({batch_n})",
            batch_rate,
            "dec/s",
            "consume-only loop",
            consume_only,
            "target ≥ 200 decisions/s (issue #12)",
        ),
    ]


def _reset_customers(client: redis.Redis) -> None:
    for part in ("scores", "contacts", "offered"):
        for key in client.scan_iter(match=f"nba:customer:*:{part}", count=1000):
            client.delete(key)
    for key in client.scan_iter(match="nba:response:*", count=1000):
        client.delete(key)
