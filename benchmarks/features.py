"""Feature store: apply events from the topic against a consume-only loop on the same topic, and
online reads (p50/p99) against a raw Redis GET in the same run."""

from __future__ import annotations

import os
import time
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import redis
from kafka import KafkaConsumer, TopicPartition

from benchmarks.harness import Figure, Stopwatch, broker_and_redis, percentile
from feature_store import replay
from feature_store.batch import PendingBatch
from feature_store.consumers.account_events import AccountEventsHandler
from feature_store.consumers.consent_events import ConsentEventsHandler
from feature_store.consumers.customer_erasure import CustomerErasureHandler
from feature_store.domain.aggregation import compute_features, mutation_for
from feature_store.publisher import FeaturesPublisher
from feature_store.settings import Settings
from feature_store.store import FeatureRepository
from prometeo.bus import ConsumerLoop, EventProducer
from prometeo.bus.consumer import Handler
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


def _consume(bootstrap: str, n: int, repo: FeatureRepository | None, max_poll_records: int = 2000) -> float:
    """Events per second consumed, and applied to `repo` in batches unless it is None."""
    consumer = KafkaConsumer(
        topics.ACCOUNT_EVENTS,
        bootstrap_servers=bootstrap,
        group_id=uuid.uuid4().hex,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=1500,
        heartbeat_interval_ms=500,
        max_poll_records=max_poll_records,
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


def _service_path(bootstrap: str, redis_url: str, n: int) -> tuple[float, int]:
    """The service's own consumer path in this process, as `feature_store.main` assembles it (consumer
    loop, handlers, the poll's batch, debounced features-updated publishing; no views gate): events per
    second from the first poll until the group has committed all `n`, and the poll size it used."""
    settings = Settings(
        kafka_bootstrap_servers=bootstrap, redis_url=redis_url, group_id=f"bench-service-{uuid.uuid4().hex[:6]}"
    )
    client = redis.Redis.from_url(redis_url)
    repository = FeatureRepository(client, settings.processed_ttl_s)
    producer = EventProducer.for_service(settings, "bench-feature-store")
    batch = PendingBatch(repository, FeaturesPublisher(repository, producer))
    handlers: dict[str, Handler] = {
        topics.ACCOUNT_EVENTS: AccountEventsHandler(batch),
        topics.CONSENT_EVENTS: ConsentEventsHandler(repository, batch),
        topics.CUSTOMER_ERASURE: CustomerErasureHandler(repository, batch),
    }
    loop = ConsumerLoop(
        settings,
        settings.group_id,
        handlers,
        producer,
        on_batch_end=batch.end,
        batch_window_s=settings.batch_window_ms / 1000,
        batch_max_records=settings.batch_max_records,
    )
    watcher = KafkaConsumer(bootstrap_servers=bootstrap, group_id=settings.group_id, enable_auto_commit=False)
    part = TopicPartition(topics.ACCOUNT_EVENTS, 0)
    loop.start()
    try:
        while loop.last_poll_at is None or (watcher.committed(part) or 0) == 0:
            time.sleep(0.005)
        began = time.perf_counter()  # the first poll's commit: joined and fetching, as `_consume` starts
        first = watcher.committed(part) or 0
        while (watcher.committed(part) or 0) < n:
            if loop.error is not None and not loop.alive:
                raise RuntimeError(f"service path stopped: {loop.error!r}")
            time.sleep(0.01)
        return (n - first) / (time.perf_counter() - began), settings.consumer_max_poll_records
    finally:
        loop.stop()
        watcher.close(autocommit=False)
        producer.close()


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
        client.flushdb()  # from nothing again: applied-markers left behind would make every event a no-op
        service, poll_records = _service_path(bootstrap, redis_url, EVENTS)
        # Its baseline: the consume-only loop with the service's poll size (the service's setting, not 2,000).
        consume_service_poll = _consume(bootstrap, EVENTS, None, max_poll_records=poll_records)
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
        Figure(
            "feature-store service path (loop, publish)",
            service,
            "events/s",
            f"consume-only, {poll_records}-record polls",
            consume_service_poll,
            "what the service does per batch, features-updated included",
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
