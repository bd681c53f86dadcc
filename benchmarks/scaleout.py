"""Feature-store scale-out: the service itself (`python -m feature_store`: consume, apply, publish
features-updated), one replica against two in one consumer group, on an account-events topic of
several partitions. Replicas start and join first; then the events are published and the clock runs
until the group has committed every offset. Both runs must leave exactly the same per-customer sums.
Target: two replicas ≥ 1.5 × one (the machine has two cores; other load on it shows in the ratio)."""

from __future__ import annotations

import os
import sys
import time
import uuid
from datetime import timedelta

import redis
from kafka import KafkaConsumer, TopicPartition

from benchmarks.features import _booked
from benchmarks.harness import RUN_DIR, Figure
from feature_store.store import FeatureRepository
from prometeo.bus import EventProducer, ensure_topics
from prometeo.contracts import topics, utcnow
from prometeo_dev import servers

QUICK = os.environ.get("BENCH", "").lower() == "quick"
EVENTS = int(os.environ.get("BENCH_SCALEOUT_EVENTS", "30000" if QUICK else "100000"))
PARTITIONS = 4
CUSTOMERS = 2000


def run() -> list[Figure]:
    logs = RUN_DIR / "logs"
    rates, sums = [], []
    for replicas in (1, 2):
        # A fresh broker and Redis per run: the same events, from nothing, through each layout.
        with servers.kafka_broker(logs) as bootstrap, servers.redis_server(logs) as redis_url:
            ensure_topics(bootstrap, partitions=PARTITIONS)
            rates.append(_timed(bootstrap, redis_url, replicas))
            sums.append(_sums(redis.Redis.from_url(redis_url)))
    assert sums[0] == sums[1], "two replicas must leave exactly the sums one leaves"
    assert sum(c for c, _ in sums[0].values()) == EVENTS, "every event counted once"
    return [
        Figure(
            f"feature-store service, 2 replicas ({PARTITIONS} partitions)",
            rates[1],
            "events/s",
            "same service, 1 replica",
            rates[0],
            "target ≥ 1.5 × one; per-customer sums identical",
        )
    ]


def _timed(bootstrap: str, redis_url: str, replicas: int) -> float:
    """Start `replicas` processes in a fresh group, wait until they joined, publish EVENTS, time them."""
    group = f"bench-scaleout-{uuid.uuid4().hex[:6]}"
    procs, urls = [], []
    try:
        for n in range(replicas):
            port = servers.free_port()
            env = {
                "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                "REDIS_URL": redis_url,
                "PROMETEO_ENV": "test",
                "PROMETEO_LOG_LEVEL": "WARNING",
                "PROMETEO_CONSUMER_SESSION_TIMEOUT_MS": "3000",
                "PROMETEO_TOPIC_PARTITIONS": str(PARTITIONS),  # readiness checks the topics against it
                "PROMETEO_FEATURE_STORE_PORT": str(port),
                "PROMETEO_FEATURE_STORE_GROUP_ID": group,
            }
            argv = [sys.executable, "-m", "feature_store"]
            procs.append(servers.spawn(f"bench-feature-store-{replicas}-{n}", argv, RUN_DIR / "logs", env))
            urls.append(f"http://127.0.0.1:{port}")
        for url, proc in zip(urls, procs, strict=True):
            servers.wait_for_http(f"{url}/readyz", 90, proc.proc)
        producer = EventProducer(bootstrap, "bench")
        now = utcnow()
        customers = [f"ck_scale_{i:05d}" for i in range(CUSTOMERS)]
        began = time.perf_counter()
        futures = [
            producer.publish(topics.ACCOUNT_EVENTS, _booked(customers[i % CUSTOMERS], i, now - timedelta(days=i % 80)))
            for i in range(EVENTS)
        ]
        producer.flush()
        for future in futures:
            future.get(timeout=30)
        producer.close()
        # Offsets from 0 on fresh partitions: done when the group's commits add up to every event
        # (this broker's ListOffsets answers the last batch's start, so end offsets cannot say it).
        watcher = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
        parts = [TopicPartition(topics.ACCOUNT_EVENTS, p) for p in range(PARTITIONS)]
        deadline = time.monotonic() + 600
        try:
            while sum(watcher.committed(tp) or 0 for tp in parts) < EVENTS:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{replicas} replica(s) did not apply {EVENTS} events in 600 s")
                time.sleep(0.05)
        finally:
            watcher.close(autocommit=False)
        return EVENTS / (time.perf_counter() - began)
    finally:
        for proc in procs:
            proc.stop()


def _sums(client: redis.Redis) -> dict[str, tuple[int, int]]:
    repository = FeatureRepository(client, 3600)
    customers = [f"ck_scale_{i:05d}" for i in range(CUSTOMERS)]
    out = {}
    for ck, state in zip(customers, repository.load(customers, utcnow()), strict=True):
        fields = [(f.rsplit("|", 1)[-1], int(v)) for month in state.months.values() for f, v in month.items()]
        out[ck] = (sum(v for m, v in fields if m == "count"), sum(v for m, v in fields if m == "outflow"))
    return out
