"""The feature store against a real broker and Redis: events → aggregates → features-updated,
idempotent under redelivery, erasure, and the Lua script agreeing with the in-memory replay."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
import redis as redis_lib
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from feature_store.domain.aggregation import compute_features, last_event_at, mutation_for
from feature_store.domain.definitions import FEATURE_SET_VERSION
from feature_store.domain.replay import MemoryCustomer
from feature_store.main import app
from feature_store.settings import get_settings
from feature_store.store import ApplyResult, FeatureRepository
from prometeo import keys
from prometeo.contracts import new_event, topics, utcnow
from prometeo.contracts.events import (
    AccountOpenedV1,
    BalanceSnapshotV1,
    CustomerErasureRequestedV1,
    Direction,
    TransactionDeletedV1,
)
from prometeo.contracts.products import ProductCode
from tests.app_helpers import service_client
from tests.bus_helpers import publish, read_topic, wait_until
from tests.factories import balance, booked, consent_granted, held

pytestmark = pytest.mark.integration


@pytest.fixture
def client(service_env: Callable[[dict[str, str]], None], unique: Callable[[str], str]) -> Iterator[TestClient]:
    service_env({"PROMETEO_FEATURE_STORE_GROUP_ID": unique("feature-store")})
    get_settings.cache_clear()
    with service_client(app) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200, timeout=30)
        yield client
    get_settings.cache_clear()


def test_events_become_features_and_a_features_updated_event(
    client: TestClient, broker: str, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_flow")
    now = utcnow()
    first = booked(ck, "120.50", at=now - timedelta(days=2), mcc="4511")
    publish(
        broker,
        topics.ACCOUNT_EVENTS,
        [
            first,
            first,  # redelivered: must count once
            booked(ck, "1000.00", direction=Direction.CREDIT, payroll=True, mcc=None, at=now - timedelta(days=3)),
            balance(ck, "2500.00", at=now - timedelta(hours=1)),
            held(ck, ProductCode.MORTGAGE, elsewhere=True),
        ],
    )

    def ready() -> dict | None:
        r = client.get(f"/v1/features/{ck}")
        body = r.json() if r.status_code == 200 else None
        return body if body and body["features"]["products_elsewhere"] == 1 else None

    body = wait_until(ready)
    assert body["features"]["spend_travel_30d"] == 120.5
    assert body["features"]["outflow_30d"] == 120.5
    assert body["features"]["salary_30d"] == 1000.0
    assert body["features"]["balance_current"] == 2500.0
    assert body["held_elsewhere"] == ["mortgage"]
    assert body["feature_set_version"] == FEATURE_SET_VERSION
    assert body["last_event_at"] is not None  # freshness: the newest event's time

    updates = read_topic(broker, topics.FEATURES_UPDATED, match=lambda r: r.key == ck.encode())
    latest = json.loads(updates[-1].value)
    assert latest["payload"]["held_elsewhere"] == ["mortgage"]


def test_batch_read_reports_missing(client: TestClient, unique: Callable[[str], str]) -> None:
    r = client.post("/v1/features:batch", json={"customer_keys": [unique("ck_absent")]})
    assert r.status_code == 200 and r.json()["found"] == [] and len(r.json()["missing"]) == 1
    assert client.get(f"/v1/features/{unique('ck_absent')}").headers["content-type"] == "application/problem+json"


def test_erasure_removes_every_key_and_refuses_until_new_consent(
    client: TestClient, broker: str, redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_erase")
    publish(broker, topics.ACCOUNT_EVENTS, [booked(ck, "10.00"), held(ck, ProductCode.SAVINGS)])
    wait_until(lambda: client.get(f"/v1/features/{ck}").status_code == 200)
    publish(
        broker,
        topics.CUSTOMER_ERASURE,
        [new_event(CustomerErasureRequestedV1(reason="consent_revoked"), customer_key=ck, source="tests")],
    )
    wait_until(lambda: not list(redis.scan_iter(match=keys.customer_pattern(keys.FEATURES, ck))), timeout=5)

    refused_before = _refused()
    publish(broker, topics.ACCOUNT_EVENTS, [booked(ck, "99.00")])  # refused: no consent since erasure
    # Topics are not ordered with each other: let the refusal happen before the new consent arrives.
    wait_until(lambda: _refused() > refused_before)
    assert client.get(f"/v1/features/{ck}").status_code == 404
    publish(broker, topics.CONSENT_EVENTS, [consent_granted(ck)])
    # Again no order across topics: the booking must follow the consent that lifted the refusal.
    wait_until(lambda: not redis.exists(keys.entity(keys.FEATURES, "erased", ck)))
    publish(broker, topics.ACCOUNT_EVENTS, [booked(ck, "7.00")])
    body = wait_until(
        lambda: client.get(f"/v1/features/{ck}").json() if client.get(f"/v1/features/{ck}").status_code == 200 else None
    )
    assert body["features"]["outflow_30d"] == 7.0


def _refused() -> float:
    return REGISTRY.get_sample_value("prometeo_feature_updates_total", {"event_type": "refused_erased"}) or 0.0


def test_lua_script_and_memory_replay_agree(redis: redis_lib.Redis, unique: Callable[[str], str]) -> None:
    """Random bookings, corrections, deletions and redeliveries give identical features both ways."""
    rng = random.Random(42)
    ck = unique("ck_agree")
    repo = FeatureRepository(redis, 3600)
    memory = MemoryCustomer()
    now = utcnow()
    events = []
    txn_ids = [f"t{i}" for i in range(30)]
    for _ in range(300):
        roll = rng.random()
        tid = rng.choice(txn_ids)
        at = now - timedelta(days=rng.randint(0, 100), hours=rng.randint(0, 23))
        if roll < 0.7:
            e = booked(
                ck,
                f"{rng.randint(1, 50000) / 100:.2f}",
                at=at,
                txn_id=tid,
                mcc=rng.choice(["5411", "5812", None]),
                direction=rng.choice(list(Direction)),
            )
        elif roll < 0.8:
            e = new_event(TransactionDeletedV1(account_id="acc-1", transaction_id=tid), customer_key=ck, source="t")
        elif roll < 0.9:
            e = balance(ck, f"{rng.randint(-1000, 90000) / 100:.2f}", at=at, account=rng.choice(["a", "b"]))
        else:
            payload = BalanceSnapshotV1(
                account_id="card", available=Decimal(rng.randint(0, 5000)), credit_limit=Decimal(5000), as_of=at
            )
            e = new_event(payload, customer_key=ck, source="t", occurred_at=at)
        events.append(e)
        if rng.random() < 0.1:
            events.append(e)  # redelivery
    opened = AccountOpenedV1(account_id="card", account_type="credit_card")
    events.append(new_event(opened, customer_key=ck, source="t"))
    for e in events:
        m = mutation_for(e.typed(), e.occurred_at)
        applied = repo.apply(str(e.event_id), ck, m)
        assert (applied is ApplyResult.APPLIED) == memory.apply(str(e.event_id), m)
    [state] = repo.load([ck], now)
    assert compute_features(state, now) == compute_features(memory.state(), now)
    assert compute_features(state, now)["card_utilisation_current"] > 0
    assert last_event_at(state.profile) == last_event_at(memory.state().profile) is not None


def test_one_script_call_loads_what_the_hashes_hold_and_the_objection(
    redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    """The publisher's read (`load_with_objection`, one script call) returns each customer's month
    hashes and profile exactly as Redis holds them, and who objects to profiling."""
    now = utcnow()
    repo = FeatureRepository(redis, 3600)
    objecting, plain, empty = unique("ck_obj"), unique("ck_plain"), unique("ck_empty")
    for i, ck in enumerate((objecting, plain)):
        for days in (1, 35, 70):
            e = booked(ck, f"{10 + i + days}.25", at=now - timedelta(days=days))
            repo.apply(str(e.event_id), ck, mutation_for(e.typed(), e.occurred_at))
    repo.set_objection(objecting, True)
    loaded = repo.load_with_objection([objecting, plain, empty], now)
    assert [flag for _, flag in loaded] == [True, False, False]
    for ck, (state, _) in zip((objecting, plain), loaded[:2], strict=True):
        prefix = keys.customer(keys.FEATURES, ck)
        for month, fields in state.months.items():
            assert fields == _text(redis.hgetall(f"{prefix}:days:{month}"))
        assert state.profile == _text(redis.hgetall(f"{prefix}:profile"))
        assert sum(len(f) for f in state.months.values()) > 0
    assert loaded[2][0].is_empty
    assert repo.load([plain], now) == [loaded[1][0]]


def _text(h: dict[bytes | str, bytes | str]) -> dict[str, str]:
    return {_s(k): _s(v) for k, v in h.items()}


def _s(v: bytes | str) -> str:
    return v.decode() if isinstance(v, bytes) else v
