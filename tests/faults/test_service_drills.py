"""A service killed mid-batch: feature-store is killed (-9) while it works through a backlog, then
restarted. The ledger: every acknowledged event on the topic once, each applied once (its marker),
and the customer's transaction count equals what was ingested — nothing counted twice or lost."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import redis

from prometeo import clock, keys
from prometeo.contracts import topics
from prometeo.identity import customer_key
from prometeo.keys import FEATURES
from prometeo.settings import DEV_PSEUDONYM_KEY
from tests.app_helpers import caller_auth
from tests.bus_helpers import read_topic, wait_until
from tests.faults.conftest import DurableBroker, Service
from tests.faults.ledger import Ledger

pytestmark = [pytest.mark.faults, pytest.mark.timeout(180)]
EVENTS = 200


@pytest.fixture
def feature_store(durable_broker: DurableBroker, faults_redis: str) -> Iterator[Service]:
    service = Service(
        "feature-store",
        "feature_store",
        durable_broker,
        faults_redis,
        PROMETEO_FEATURE_STORE_GROUP_ID=f"feature-store-faults-{uuid.uuid4().hex[:6]}",
        PROMETEO_CONSUMER_MAX_POLL_RECORDS="10",  # small batches: the kill lands mid-backlog
    )
    try:
        yield service
    finally:
        service.stop()


def test_feature_store_killed_mid_batch_counts_each_event_once(
    durable_broker: DurableBroker, ingest: Service, feature_store: Service, faults_redis: str
) -> None:
    customer = f"faults-fs-{uuid.uuid4().hex[:8]}"
    ck = customer_key(customer, DEV_PSEUDONYM_KEY)
    ledger = Ledger("feature-store-kill-9")
    at = (clock.now() - timedelta(hours=2)).isoformat()
    with httpx.Client(base_url=ingest.url, timeout=30, auth=caller_auth("ingest-openfinance")) as client:
        consent = {
            "customer_id": customer,
            "consent_id": f"urn:faults:{customer}",
            "institution": "test-bank",
            "scopes": ["accounts", "balances", "transactions", "customers"],
        }
        assert client.post("/v1/consents", json=consent).status_code == 201
        for start in range(0, EVENTS, 50):
            items = [
                {
                    "customer_id": customer,
                    "source_event_id": f"{customer}-t{i}",
                    "type": "transaction.booked",
                    "version": 1,
                    "occurred_at": at,
                    "source": "core-banking",
                    "payload": {
                        "account_id": "a1",
                        "transaction_id": f"t{i}",
                        "direction": "debit",
                        "amount": "10.00",
                        "currency": "BRL",
                        "booked_at": at,
                    },
                }
                for i in range(start, start + 50)
            ]
            response = client.post("/v1/events:batch", json={"events": items})
            assert response.status_code == 200 and response.json()["counts"]["accepted"] == 50, response.text
            ledger.accept(response.json())

    store = redis.Redis.from_url(faults_redis)
    markers = [keys.processed_event(FEATURES, event_id) for event_id in sorted(ledger.acknowledged)]

    def applied() -> int:
        pipe = store.pipeline(transaction=False)
        for marker in markers:
            pipe.exists(marker)
        return sum(int(n) for n in pipe.execute())

    feature_store.start()
    at_kill = wait_until(lambda: (n := applied()) >= 10 and n, timeout=60, interval=0.01)
    feature_store.kill()
    print(f"[drill feature-store-kill-9] killed with {at_kill}/{EVENTS} applied")
    feature_store.start()
    feature_store.wait_ready(60)
    wait_until(lambda: applied() == EVENTS, timeout=60)

    def count() -> float | None:
        response = httpx.get(f"{feature_store.url}/v1/features/{ck}", timeout=5, auth=caller_auth("feature-store"))
        return response.json()["features"]["txn_count_30d"] if response.status_code == 200 else None

    assert wait_until(lambda: count() == EVENTS, timeout=30), "every transaction counted exactly once"
    ledger.read(
        read_topic(
            durable_broker.bootstrap,
            topics.ACCOUNT_EVENTS,
            min_count=EVENTS + 1,
            timeout=4,
            match=lambda r: json.loads(r.value)["customer_key"] == ck,
        )
    )
    pipe = store.pipeline(transaction=False)
    for event_id in ledger.on_topic:
        pipe.exists(keys.processed_event(FEATURES, event_id))
    for event_id, present in zip(list(ledger.on_topic), pipe.execute(), strict=True):
        if present:
            ledger.processed[event_id] += 1
    store.close()
    ledger.assert_whole()
    assert count() == EVENTS, f"txn_count_30d={count()} after the restart, {EVENTS} ingested"
