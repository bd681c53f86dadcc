"""The replay/backfill and snapshot tools against the real topic and a real Redis (database 1, so the
`--reset` of a rebuild never touches what other tests keep in database 0)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import redis as redis_lib

from feature_store import replay, snapshot
from feature_store.domain.aggregation import compute_features, mutation_for
from feature_store.domain.replay import MemoryCustomer
from feature_store.store import FeatureRepository
from prometeo import keys
from prometeo.contracts import Envelope, new_event, topics, utcnow
from prometeo.contracts.events import CustomerErasureRequestedV1, Direction
from prometeo.contracts.products import ProductCode
from tests.bus_helpers import publish
from tests.factories import balance, booked, held

pytestmark = pytest.mark.integration


def _db1(redis_url: str) -> str:
    base, _, tail = redis_url.rpartition("/")
    return f"{base}/1" if tail.isdigit() else f"{redis_url.rstrip('/')}/1"


def _expected(events: list[Envelope]) -> MemoryCustomer:
    memory = MemoryCustomer()
    for e in events:
        memory.apply(str(e.event_id), mutation_for(e.typed(), e.occurred_at))
    return memory


def test_replay_rebuilds_redis_from_the_topic_and_a_second_pass_changes_nothing(
    broker: str, redis_url: str, unique: Callable[[str], str], tmp_path: Path
) -> None:
    ck, erased = unique("ck_replay"), unique("ck_replay_gone")
    now = utcnow()
    events = [
        booked(ck, "120.50", at=now - timedelta(days=2), mcc="4511"),
        booked(ck, "3000.00", direction=Direction.CREDIT, payroll=True, mcc=None, at=now - timedelta(days=40)),
        balance(ck, "900.00", at=now - timedelta(days=1)),
        held(ck, ProductCode.SAVINGS),
    ]
    publish(broker, topics.ACCOUNT_EVENTS, [*events, events[0], booked(erased, "5.00")])
    publish(
        broker,
        topics.CUSTOMER_ERASURE,
        [new_event(CustomerErasureRequestedV1(reason="consent_revoked"), customer_key=erased, source="tests")],
    )

    url = _db1(redis_url)
    client = redis_lib.Redis.from_url(url)
    client.set(keys.customer(keys.FEATURES, ck, "days:190001"), "stale")  # a rebuild starts from nothing
    args = ["--bootstrap", broker, "--redis-url", url, "--no-progress"]
    assert replay.main([*args, "--reset"]) == 0
    repo = FeatureRepository(client, 3600)
    [state, gone] = repo.load([ck, erased], now)
    expected = compute_features(_expected(events).state(), now)
    assert compute_features(state, now) == expected
    assert expected["spend_travel_30d"] == 120.5 and expected["products_here"] == 1
    assert gone.is_empty  # ingested before its erasure: never replayed
    assert not client.exists(keys.customer(keys.FEATURES, ck, "days:190001"))

    assert replay.main(args) == 0  # a backfill over applied events: markers make it a no-op
    [again] = repo.load([ck], now)
    assert compute_features(again, now) == expected
    client.close()

    # The snapshot tool reads the same topic: once every event has occurred, it sees the replayed state.
    label_time = utcnow()
    labels = tmp_path / "labels.csv"
    labels.write_text(f"customer_key,label_time\n{ck},{label_time.isoformat()}\n")
    out = tmp_path / "snap.parquet"
    assert snapshot.main(["--labels", str(labels), "--bootstrap", broker, "--out", str(out), "--no-progress"]) == 0
    [row] = pq.read_table(out).to_pylist()
    assert {k: row[k] for k in expected} == compute_features(_expected(events).state(), label_time)
