"""The scores consumer decides a poll as a batch: on real Redis, a batch's decisions are the ones the
same events get one record at a time (caps, learning, objection, erasure, stale scores, redelivery
included), and its Redis round trips grow by one per decision (the atomic reservation), not a dozen."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib

from next_best_action.consumers.scores import ScoresHandler
from next_best_action.policy_source import PolicySource
from next_best_action.response_store import LeverStore, ResponseStore
from next_best_action.settings import DEFAULT_POLICY
from next_best_action.store import _RESERVE, NbaStore
from prometeo import clock, keys
from prometeo.bus import EventProducer
from prometeo.bus.producer import SendFuture
from prometeo.contracts import Channel, Envelope, new_event
from prometeo.contracts.events import ScoresComputedV1
from tests.unit.next_best_action.factories import scores

pytestmark = pytest.mark.integration

AT = datetime(2025, 6, 3, 15, 0, tzinfo=UTC)  # a Tuesday, 12:00 in São Paulo
BATCH_DB, ONE_BY_ONE_DB = 14, 15


class CountingConnection(redis_lib.Connection):
    """Counts what is sent: one packed send is one round trip (a pipeline is one)."""

    sent = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sent += 1
        super().send_packed_command(command, check_health)


class RecordingProducer(EventProducer):
    """The real producer, remembering what the handler published."""

    def __init__(self, bootstrap_servers: str) -> None:
        super().__init__(bootstrap_servers, "nba-batch-test", linger_ms=0)
        self.published: list[Envelope] = []

    def publish(self, topic: str, event: Envelope, extra_headers: Iterable[tuple[str, bytes]] = ()) -> SendFuture:
        self.published.append(event)
        return super().publish(topic, event, extra_headers)


@pytest.fixture(scope="module")
def producer(broker: str) -> Iterator[RecordingProducer]:
    producer = RecordingProducer(broker)
    yield producer
    producer.close()


@pytest.fixture(scope="module")
def policy_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Daily caps small enough to bind within one batch; learning on (the default) so trials matter."""
    text = DEFAULT_POLICY.read_text()
    capped = 'credit_card:     {value_brl: 420, credit: true, min_age_band: "18-24"}'
    assert capped in text
    text = text.replace(capped, capped[:-1] + ", daily_cap: 3}")
    text = text.replace(
        "savings:         {value_brl: 60,  credit: false}",
        "savings:         {value_brl: 60,  credit: false, daily_cap: 5}",
    )
    path = tmp_path_factory.mktemp("batch-policy") / "policy.yaml"
    path.write_text(text)
    return path


def _client(redis_url: str, db: int, **kwargs: Any) -> redis_lib.Redis:
    """A client on its own database of the suite's Redis (the volume counters are global keys)."""
    options = redis_lib.ConnectionPool.from_url(redis_url).connection_kwargs
    pool = redis_lib.ConnectionPool(host=options.get("host"), port=options.get("port"), db=db, **kwargs)
    return redis_lib.Redis(connection_pool=pool)


def _handler(client: redis_lib.Redis, policy_path: Path, producer: EventProducer) -> tuple[ScoresHandler, NbaStore]:
    store = NbaStore(client, processed_ttl_s=3600, scores_ttl_s=3600, contact_retention_days=30, erased_ttl_s=3600)
    responses = ResponseStore(client, retention_s=3600)
    return ScoresHandler(store, PolicySource(policy_path, 0), producer, LeverStore(client), responses), store


def _seed(client: redis_lib.Redis, store: NbaStore, customers: list[str]) -> None:
    client.flushdb()
    for ck in customers:
        store.marketing.grant(ck, "consent-1", list(Channel))
        client.hset(keys.customer(keys.NBA, ck, "purposes"), "consent-1", "marketing,analytics")
    client.hset(keys.customer(keys.NBA, customers[0], "privacy"), "profiling_objected", "1")
    client.hdel(keys.customer(keys.NBA, customers[1], "purposes"), "consent-1")  # no marketing purpose
    store.restore_erasure(customers[2], 3600)


def _events(customers: list[str]) -> list[tuple[Envelope, ScoresComputedV1]]:
    events = []
    for i, ck in enumerate(customers * 2):  # every customer twice: the second round sees the first
        payload = scores(profile={"digital_archetype": "activated" if i % 3 else "emerging", "age_band": "35-44"})
        envelope = new_event(payload, customer_key=ck, source="test", occurred_at=AT + timedelta(seconds=i))
        events.append((envelope, payload))
    stale = events[-1]  # older than what is kept by then: superseded, not decided
    stale_payload = scores()
    events.append(
        (new_event(stale_payload, customer_key=stale[0].customer_key, source="test", occurred_at=AT), stale_payload)
    )
    events.append(events[5])  # a redelivery within the poll
    return events


def _decisions(producer: RecordingProducer, since: int) -> list[dict[str, Any]]:
    return [{"customer": e.customer_key, **e.payload} for e in producer.published[since:]]


def test_a_batch_decides_as_one_record_at_a_time(
    redis_url: str, policy_path: Path, producer: RecordingProducer, unique: Any
) -> None:
    customers = [unique("batch") for _ in range(8)]
    events = _events(customers)
    batch_client = _client(redis_url, BATCH_DB)
    single_client = _client(redis_url, ONE_BY_ONE_DB)
    try:
        batched, batch_store = _handler(batch_client, policy_path, producer)
        single, single_store = _handler(single_client, policy_path, producer)
        _seed(batch_client, batch_store, customers)
        _seed(single_client, single_store, customers)
        with clock.pinned(AT, tick=False):
            start = len(producer.published)
            for envelope, payload in events:
                batched(envelope, payload)
            batched.end()
            from_batch = _decisions(producer, start)
            start = len(producer.published)
            for envelope, payload in events:
                single(envelope, payload)
                single.end()
            one_by_one = _decisions(producer, start)
        assert from_batch == one_by_one
        decided = {d["customer"] for d in from_batch}
        assert customers[0] not in decided and customers[2] not in decided  # objected, erased
        assert len(from_batch) == 2 * (len(customers) - 2)  # the stale and the redelivered ones add nothing
        offers = [o["product"] for d in from_batch for o in d["offers"]]
        assert offers.count("credit_card") == 3  # the daily cap bound within the batch
        assert any("daily_volume_cap" in rules for d in from_batch for rules in d["blocked"].values())
        for part in ("contacts", "offered", "scores"):
            for ck in customers:
                assert batch_client.dump(keys.customer(keys.NBA, ck, part)) == single_client.dump(
                    keys.customer(keys.NBA, ck, part)
                )
        assert sorted(batch_client.keys("nba:volume:*")) == sorted(single_client.keys("nba:volume:*"))
        for key in batch_client.keys("nba:volume:*") + batch_client.keys("nba:response:*"):
            assert batch_client.dump(key) == single_client.dump(key), key
    finally:
        batch_client.close()
        single_client.close()


def test_a_batch_costs_one_round_trip_per_decision_plus_a_few(
    redis_url: str, policy_path: Path, producer: RecordingProducer, unique: Any
) -> None:
    customers = [unique("trips") for _ in range(40)]
    client = _client(redis_url, BATCH_DB, connection_class=CountingConnection)
    try:
        handler, store = _handler(client, policy_path, producer)
        _seed(client, store, customers)
        events = [
            (new_event(p, customer_key=ck, source="test", occurred_at=AT), p)
            for ck in customers[3:]
            for p in [scores(profile={"digital_archetype": "activated", "age_band": "35-44"})]
        ]
        with clock.pinned(AT, tick=False):
            for envelope, payload in events:
                handler(envelope, payload)
            client.script_load(_RESERVE)  # as after a first decision: no NOSCRIPT round trip in the count
            before, published = CountingConnection.sent, len(producer.published)
            handler.end()
        trips = CountingConnection.sent - before
        assert len(producer.published) - published == len(events)
        # One read pipeline, one reservation per decision (atomic, in order), one pipeline of the writes
        # and, a round without moments, its markers (EVAL there: no SCRIPT EXISTS round trip per execute).
        # One record at a time took about a dozen per decision.
        assert trips == len(events) + 2, trips
        for envelope, _ in events:
            assert client.exists(keys.processed_event(keys.NBA, str(envelope.event_id)))
    finally:
        client.close()


def test_the_batch_writes_survive_a_flushed_script_cache(
    redis_url: str, policy_path: Path, producer: RecordingProducer, unique: Any
) -> None:
    """The writes pipeline EVALs its scripts: a Redis that lost its script cache (a restart) still records."""
    ck = unique("flushed")
    client = _client(redis_url, BATCH_DB)
    try:
        handler, store = _handler(client, policy_path, producer)
        _seed(client, store, [unique("objected"), unique("unmarketable"), unique("erased"), ck])
        payload = scores(profile={"digital_archetype": "activated", "age_band": "35-44"})
        envelope = new_event(payload, customer_key=ck, source="test", occurred_at=AT)
        client.script_flush()
        with clock.pinned(AT, tick=False):
            handler(envelope, payload)
            handler.end()
        assert client.zcard(keys.customer(keys.NBA, ck, "contacts")) > 0
        assert client.exists(keys.processed_event(keys.NBA, str(envelope.event_id)))
    finally:
        client.close()


def test_a_poll_redelivered_before_its_markers_decides_the_same_and_counts_nothing_twice(
    redis_url: str, policy_path: Path, producer: RecordingProducer, unique: Any
) -> None:
    customers = [unique("again") for _ in range(6)]
    client = _client(redis_url, BATCH_DB)
    try:
        handler, store = _handler(client, policy_path, producer)
        _seed(client, store, customers)
        events = _events(customers)
        with clock.pinned(AT, tick=False):
            start = len(producer.published)
            for envelope, payload in events:
                handler(envelope, payload)
            handler.end()
            first = _decisions(producer, start)
            counters = {key: client.dump(key) for key in client.keys("nba:volume:*") + client.keys("nba:response:*")}
            # A crash after the acks and the writes, before the markers: the poll comes round again.
            for envelope, _ in events:
                client.delete(keys.processed_event(keys.NBA, str(envelope.event_id)))
            start = len(producer.published)
            for envelope, payload in events:
                handler(envelope, payload)
            handler.end()
            again = _decisions(producer, start)
            # And once marked, a redelivery publishes nothing.
            start = len(producer.published)
            for envelope, payload in events:
                handler(envelope, payload)
            handler.end()
        # The same decision ids (campaigns de-duplicates on them) for the events still newest (the earlier ones
        # are superseded now); offers only among those reserved the first time (the contacts now recorded may
        # block some, as one record at a time); counted nowhere twice.
        assert again and {d["decision_id"] for d in again} <= {d["decision_id"] for d in first}
        offered = {o["offer_id"] for d in first for o in d["offers"]}
        assert {o["offer_id"] for d in again for o in d["offers"]} <= offered
        assert {key: client.dump(key) for key in counters} == counters
        assert sorted(client.keys("nba:volume:*") + client.keys("nba:response:*")) == sorted(counters)
        assert len(producer.published) == start
    finally:
        client.close()
