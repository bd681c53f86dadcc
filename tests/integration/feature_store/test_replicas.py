"""Two feature-store replicas in one consumer group split the partitions of account-events.v1 (three in
the test broker): each applies its share, and every customer's sums come out exact — nothing lost in the
rebalance when the second replica joins mid-stream, nothing counted twice when a poll is redelivered."""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
import redis as redis_lib

from feature_store.store import FeatureRepository
from prometeo.contracts import topics, utcnow
from prometeo_dev import servers
from tests.bus_helpers import publish, scaled, wait_until
from tests.conftest import RUN_DIR
from tests.factories import booked

pytestmark = pytest.mark.integration

CUSTOMERS = 24
EVENTS = 1200


def _applied(url: str, group: str) -> float:
    """account-events this replica's consumer processed (its /metrics)."""
    text = httpx.get(f"{url}/metrics", timeout=scaled(2)).text
    found = 0.0
    for labels, value in re.findall(r"prometeo_consumer_messages_total\{([^}]*)\} (\S+)", text):
        if f'group="{group}"' in labels and 'topic="account-events.v1"' in labels and 'outcome="processed"' in labels:
            found += float(value)
    return found


@pytest.fixture
def replicas(broker: str, redis_url: str, unique: Callable[[str], str]) -> Iterator[tuple[str, list[str]]]:
    group = unique("feature-store-replicas")
    urls, procs = [], []
    try:
        for n in range(2):
            port = servers.free_port()
            env = {
                "KAFKA_BOOTSTRAP_SERVERS": broker,
                "REDIS_URL": redis_url,
                "PROMETEO_ENV": "test",
                "PROMETEO_LOG_LEVEL": "WARNING",
                "PROMETEO_CONSUMER_SESSION_TIMEOUT_MS": "1500",
                "PROMETEO_CONSUMER_MAX_POLL_RECORDS": "100",
                "PROMETEO_FEATURE_STORE_PORT": str(port),
                "PROMETEO_FEATURE_STORE_GROUP_ID": group,
            }
            procs.append(
                servers.spawn(f"feature-store-replica-{n}", [sys.executable, "-m", "feature_store"], RUN_DIR, env)
            )
            urls.append(f"http://127.0.0.1:{port}")
        for url, proc in zip(urls, procs, strict=True):
            servers.wait_for_http(f"{url}/readyz", 60, proc.proc)
        yield group, urls
    finally:
        for proc in procs:
            proc.stop()


def test_two_replicas_share_the_partitions_and_every_customer_sum_is_exact(
    replicas: tuple[str, list[str]], broker: str, redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    group, urls = replicas
    rng = random.Random(12)
    customers = [unique("ck_replica") for _ in range(CUSTOMERS)]
    expected = {ck: [0, 0] for ck in customers}  # transactions, debits in cents
    now = utcnow()
    events = []
    for _ in range(EVENTS):
        ck = rng.choice(customers)
        cents = rng.randint(1, 999_999)
        expected[ck][0] += 1
        expected[ck][1] += cents
        events.append(booked(ck, f"{cents // 100}.{cents % 100:02d}", at=now - timedelta(days=rng.randint(0, 20))))
    # Twice, the second time as a redelivery (same event ids): must count once.
    publish(broker, topics.ACCOUNT_EVENTS, events[: EVENTS // 2])
    publish(broker, topics.ACCOUNT_EVENTS, events)
    repository = FeatureRepository(redis, 3600)

    def sums() -> dict[str, list[int]]:
        got = {}
        for ck, state in zip(customers, repository.load(customers, now), strict=True):
            fields = [(f.rsplit("|", 1)[-1], int(v)) for month in state.months.values() for f, v in month.items()]
            got[ck] = [sum(v for m, v in fields if m == "count"), sum(v for m, v in fields if m == "outflow")]
        return got

    wait_until(lambda: sums() == expected, timeout=60, interval=0.3)
    shares = [_applied(url, group) for url in urls]
    assert all(share > 0 for share in shares), f"each replica applies its partitions' events: {shares}"
