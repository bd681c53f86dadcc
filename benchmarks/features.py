"""Feature store: apply events from the topic against a consume-only loop on the same topic, and
online reads (p50/p99) against a raw Redis GET in the same run."""

from __future__ import annotations

import os
import time
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import redis
from kafka import KafkaConsumer

from benchmarks.harness import Figure, Stopwatch, broker_and_redis, percentile
from feature_store import replay
from feature_store.domain.aggregation import compute_features, mutation_for
from feature_store.store import FeatureRepository
from prometeo.bus import EventProducer
from prometeo.contracts import Envelope, decode, new_event, topics, utcnow
from prometeo.contracts.events import Direction, TransactionBookedV1
from prometeo.runtime import settle_heap

EVENTS = int(os.environ.get("BENCH_FEATURE_EVENTS", "50000"))
READS = 3000


def _booked(ck: str, i: int, at: datetime) -> Envelope:
    payload = TransactionBookedV1(
        account_id="a",
        transaction_id=f"t{i}",
        direction=Direction.DEBIT,
        amount=Decimal("10.00"),
        booked_at=at,
        mcc="5411",
    )
    return new_event(payload, customer_key=ck, source="bench", occurred_at=at)


def _consume(bootstrap: str, n: int, repo: FeatureRepository | None) -> float:
    """Events per second consumed, and applied to `repo` in batches unless it is None."""
    consumer = KafkaConsumer(
        topics.ACCOUNT_EVENTS,
        bootstrap_servers=bootstrap,
        group_id=uuid.uuid4().hex,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=1500,
        heartbeat_interval_ms=500,
        max_poll_records=2000,
    )
    seen = 0
    started = None
    while seen < n:
        for records in consumer.poll(timeout_ms=500).values():
            started = started or time.perf_counter()
            pending = []
            for record in records:
                if repo is not None:
                    envelope, payload = decode(record.value)
                    pending.append(
                        (str(envelope.event_id), envelope.customer_key, mutation_for(payload, envelope.occurred_at))
                    )
                seen += 1
            if repo is not None and pending:
                repo.apply_many(pending)  # as the service does at batch end
            consumer.commit()
    elapsed = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
    return n / elapsed


def run() -> list[Figure]:
    settle_heap()  # as the service does once started; both loops below run with it
    with broker_and_redis() as (bootstrap, redis_url):
        client = redis.Redis.from_url(redis_url)
        repo = FeatureRepository(client, 3600)
        now = utcnow()
        producer = EventProducer(bootstrap, "bench")
        customers = [f"ck_bench_{i:05d}" for i in range(1000)]
        for i in range(EVENTS):
            producer.publish(topics.ACCOUNT_EVENTS, _booked(customers[i % 1000], i, now - timedelta(days=i % 80)))
        producer.flush()
        producer.close()
        consume_only = _consume(bootstrap, EVENTS, None)
        consume_apply = _consume(bootstrap, EVENTS, repo)
        # The backfill CLI rebuilding the same aggregates from scratch (reset, read, apply).
        with Stopwatch() as sw:
            replay.main(["--bootstrap", bootstrap, "--redis-url", redis_url, "--reset", "--no-progress"])
        rebuild = EVENTS / sw.seconds

        client.set("bench:raw", b"x" * 600)
        raw, full = [], []
        for i in range(READS):
            with Stopwatch() as sw:
                client.get("bench:raw")
            raw.append(sw.seconds * 1e3)
            with Stopwatch() as sw:
                [state] = repo.load([customers[i % 1000]], now)
                compute_features(state, now)
            full.append(sw.seconds * 1e3)
    figures = [
        Figure(
            "feature-store consume + apply",
            consume_apply,
            "events/s",
            "consume-only loop",
            consume_only,
            "target ≥ 20,000 events/s per core",
        ),
        Figure("replay CLI rebuild (reset + read + apply)", rebuild, "events/s", "consume-only loop", consume_only),
        Figure("feature vector read p50", percentile(full, 0.5), "ms", "raw Redis GET p50", percentile(raw, 0.5)),
        Figure(
            "feature vector read p99",
            percentile(full, 0.99),
            "ms",
            "raw Redis GET p99",
            percentile(raw, 0.99),
            "target p99 ≤ 2 ms",
        ),
    ]
    from benchmarks import scaleout  # the service itself, one replica against two

    return figures + scaleout.run()
