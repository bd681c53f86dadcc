"""The feature views' rebuild after a lost Redis (prometeo.views runs it) on the real topic and a real
Redis (database 2, so its reset never touches what other tests keep in database 0)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis as redis_lib

from feature_store.domain.aggregation import mutation_for
from feature_store.rebuild import rebuild_features
from feature_store.store import FeatureRepository
from prometeo import keys
from prometeo.contracts import new_event, topics
from prometeo.contracts.events import CustomerErasureRequestedV1
from prometeo.redis_text import text
from tests.bus_helpers import publish
from tests.factories import booked

pytestmark = pytest.mark.integration


@pytest.fixture
def db2(redis_url: str) -> Iterator[redis_lib.Redis]:
    base, _, tail = redis_url.rpartition("/")
    client = redis_lib.Redis.from_url(f"{base}/2" if tail.isdigit() else f"{redis_url.rstrip('/')}/2")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def _outflow(r: redis_lib.Redis, ck: str) -> int:
    total = 0
    for key in r.scan_iter(match=keys.customer(keys.FEATURES, ck, "days:*")):
        total += sum(int(v) for f, v in r.hgetall(key).items() if text(f).endswith("|outflow"))
    return total


def test_rebuild_over_surviving_views_counts_nothing_twice_and_keeps_erasures(
    broker: str, db2: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    kept, gone = unique("ck_rebuild"), unique("ck_rebuild")
    events = [booked(kept, "12.34"), booked(kept, "0.66"), booked(gone, "5.00")]
    erasure = new_event(CustomerErasureRequestedV1(reason="data_subject_request"), customer_key=gone, source="t")
    publish(broker, topics.ACCOUNT_EVENTS, events)
    publish(broker, topics.CUSTOMER_ERASURE, [erasure])
    repository = FeatureRepository(db2, 3600)
    # The views as a version without epoch markers left them: applied, their applied-markers since expired.
    repository.apply_many([(str(e.event_id), e.customer_key, mutation_for(e.typed(), e.occurred_at)) for e in events])
    for e in events:
        db2.delete(keys.processed_event(keys.FEATURES, str(e.event_id)))
    assert _outflow(db2, kept) == 1300

    stats = rebuild_features(db2, repository, broker)

    assert _outflow(db2, kept) == 1300, "a replay over surviving aggregates must not count them again"
    assert _outflow(db2, gone) == 0
    assert db2.exists(keys.entity(keys.FEATURES, "erased", gone))
    assert stats["account-events.v1:skipped_erased"] >= 1
    assert stats["tombstones"] >= 1
