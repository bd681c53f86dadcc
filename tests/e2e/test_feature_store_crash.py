"""Kill -9 the feature-store process while events flow, start it again: no event lost, none counted twice."""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from prometeo.contracts import topics, utcnow
from prometeo_dev import servers
from tests.app_helpers import caller_auth
from tests.bus_helpers import publish, scaled, wait_until
from tests.conftest import RUN_DIR
from tests.factories import booked

pytestmark = pytest.mark.e2e

EVENTS = 6000
CUSTOMERS = 12


def _processed(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=scaled(2)).text
    pattern = r'prometeo_consumer_messages_total\{[^}]*outcome="processed"[^}]*topic="account-events.v1"[^}]*\} (\S+)'
    alt = r'prometeo_consumer_messages_total\{[^}]*topic="account-events.v1"[^}]*outcome="processed"[^}]*\} (\S+)'
    found = re.findall(pattern, text) or re.findall(alt, text)
    return sum(float(v) for v in found)


def test_crash_mid_stream_loses_nothing_and_counts_nothing_twice(
    broker: str, redis_url: str, unique: Callable[[str], str]
) -> None:
    rng = random.Random(3)
    customers = [unique("ck_crash") for _ in range(CUSTOMERS)]
    expected = {ck: Decimal(0) for ck in customers}
    events = []
    now = utcnow()
    for _ in range(EVENTS):
        ck = rng.choice(customers)
        amount = Decimal(rng.randint(1, 99999)) / 100
        expected[ck] += amount
        events.append(booked(ck, str(amount), at=now - timedelta(days=rng.randint(0, 20))))
    publish(broker, topics.ACCOUNT_EVENTS, events)

    port = servers.free_port()
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "REDIS_URL": redis_url,
        "PROMETEO_ENV": "test",
        "PROMETEO_CONSUMER_SESSION_TIMEOUT_MS": "1500",
        "PROMETEO_FEATURE_STORE_PORT": str(port),
        "PROMETEO_FEATURE_STORE_GROUP_ID": unique("feature-store"),
        # Small polls make "mid-batch" likely: the kill lands between Redis writes and a commit.
        "PROMETEO_CONSUMER_MAX_POLL_RECORDS": "50",
        # The consumer's crash is drilled here, not a lost Redis (tests/faults/test_redis_wiped.py): without
        # this, the first start's rebuild from the log would apply the backlog before the consumer does.
        "PROMETEO_VIEWS_REBUILD": "false",
    }
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "feature_store"]
    proc = servers.spawn("feature-store-crash", argv, RUN_DIR, env=env)
    try:
        servers.wait_for_http(f"{url}/healthz", 30, proc.proc)
        wait_until(lambda: _processed(url) >= EVENTS / 4, timeout=60, interval=0.02)
        proc.kill()
        proc = servers.spawn("feature-store-crash", argv, RUN_DIR, env=env)
        servers.wait_for_http(f"{url}/healthz", 30, proc.proc)

        def totals_match() -> bool:
            body = httpx.post(
                f"{url}/v1/features:batch",
                json={"customer_keys": customers},
                timeout=scaled(5),
                auth=caller_auth("feature-store"),
            ).json()
            got = {
                f["customer_key"]: Decimal(str(f["features"]["outflow_90d"])).quantize(Decimal("0.01"))
                for f in body["found"]
            }
            return got == {ck: v.quantize(Decimal("0.01")) for ck, v in expected.items()}

        wait_until(totals_match, timeout=90, interval=0.5)
        assert _processed(url) > 0, "the restarted process must have finished the work the killed one left"
    finally:
        proc.stop()
