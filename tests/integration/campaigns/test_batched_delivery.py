"""A decision's offers are sent, then their `delivered` outcomes published with one wait for all acks, then
counted and marked together (`Deliverer.send` / `Deliverer.record`). A crash anywhere before the marks
re-processes the decision exactly once: re-sent with the same keys, the same outcome ids, counted once."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence

import pytest
import redis as redis_lib

from campaigns.adapters.outbox import OutboxAdapter, outbox_key
from campaigns.consumers.offers import OffersHandler
from campaigns.delivery import Deliverer, acked_publisher, delivered_event_id
from campaigns.domain import kpis
from campaigns.store import CampaignStore, Increment, OfferRecord, kpi_key
from prometeo.bus import EventProducer
from prometeo.contracts import Channel, Envelope, ProductCode, new_event, topics
from prometeo.contracts.events import OfferDecidedV1, RankedOffer, ReasonCode
from tests.bus_helpers import read_to_end

pytestmark = pytest.mark.integration


class Crash(Exception):
    """The process dying at that point: nothing after it runs."""


class CrashingStore(CampaignStore):
    """The real store, dying once just before the deliveries are counted and marked (after the acks)."""

    crash_before_marks = True

    def count_many(self, items: Sequence[tuple[str, list[Increment], OfferRecord | None]]) -> None:
        if self.crash_before_marks:
            self.crash_before_marks = False
            raise Crash
        super().count_many(items)


class CrashingPublish:
    """The real acked publisher, dying once before it publishes (after the channel took every offer)."""

    def __init__(self, publish: Callable[[Sequence[Envelope]], None]) -> None:
        self._publish = publish
        self.crash = True
        self.calls: list[int] = []

    def __call__(self, events: Sequence[Envelope]) -> None:
        if self.crash:
            self.crash = False
            raise Crash
        self.calls.append(len(events))
        self._publish(events)


@pytest.fixture
def producer(broker: str) -> Iterator[EventProducer]:
    p = EventProducer(broker, "tests-campaigns-batch")
    yield p
    p.close()


def _decision(n: int) -> OfferDecidedV1:
    products = [ProductCode.CREDIT_CARD, ProductCode.PERSONAL_LOAN, ProductCode.SAVINGS]
    return OfferDecidedV1(
        decision_id=f"dc_{uuid.uuid4().hex}",
        model_version="7",
        offers=[
            RankedOffer(
                offer_id=f"of_{uuid.uuid4().hex}",
                product=products[i],
                channel=Channel.APP_PUSH,
                propensity=0.5,
                expected_value=10.0,
                reasons=[ReasonCode(code="salary_inflow", text_en="Salary", text_es="Salario", weight=0.3)],
            )
            for i in range(n)
        ],
    )


def _delivered_ids(broker: str, offer_ids: set[str]) -> list[uuid.UUID]:
    records = read_to_end(
        broker, topics.OUTCOMES, match=lambda r: json.loads(r.value)["payload"]["offer_id"] in offer_ids
    )
    return [uuid.UUID(json.loads(r.value)["event_id"]) for r in records]


@pytest.mark.parametrize("crash_at", ["before_publish", "before_marks"])
def test_a_crash_before_the_marks_reprocesses_the_decision_exactly_once(
    crash_at: str,
    broker: str,
    redis: redis_lib.Redis,
    producer: EventProducer,
    unique: Callable[[str], str],
) -> None:
    store = (CrashingStore if crash_at == "before_marks" else CampaignStore)(
        redis, processed_ttl_s=600, offers_ttl_s=600
    )
    publish = CrashingPublish(acked_publisher(producer, topics.OUTCOMES, 10.0))
    publish.crash = crash_at == "before_publish"
    campaign = unique("cmp")
    handler = OffersHandler(store, Deliverer(store, OutboxAdapter(redis), publish=publish), campaign)
    ck = unique("ck_batch")
    decision = _decision(3)
    offer_ids = {o.offer_id for o in decision.offers}
    event = new_event(decision, customer_key=ck, source="tests")
    contacts = f"{campaign}|{kpis.CONTACTS}"

    with pytest.raises(Crash):
        handler(event, decision)
    # The channel took all three (the window is the decision's, not one offer's); nothing is counted yet.
    assert redis.llen(outbox_key(ck)) == 3
    assert all(o.status == "recorded" for o in store.offers(ck))
    assert redis.hget(kpi_key("campaign"), contacts) is None
    acked_before = _delivered_ids(broker, offer_ids)
    assert len(acked_before) == (3 if crash_at == "before_marks" else 0)

    handler(event, decision)  # the redelivery after the restart
    handler(event, decision)  # and one more: everything is marked, nothing happens again
    # Re-sent once under the same idempotency keys (the provider de-duplicates), never a third time.
    sent = [json.loads(raw) for raw in redis.lrange(outbox_key(ck), 0, -1)]
    assert len(sent) == 6 and {d["offer_id"] for d in sent} == offer_ids
    # One publish, one wait, for the three outcomes, per processing that got that far.
    assert publish.calls == [3] * (2 if crash_at == "before_marks" else 1)
    ids = _delivered_ids(broker, offer_ids)
    assert set(ids) == {delivered_event_id(o) for o in offer_ids}  # republished under the same ids
    assert len(ids) == len(acked_before) + 3
    assert redis.hget(kpi_key("campaign"), contacts) == b"3"  # counted once
    assert redis.hget(kpi_key("campaign"), f"{campaign}|{kpis.OFFERS}") == b"3"
    assert all(o.status == "delivered" for o in store.offers(ck))


def test_a_decision_replayed_after_the_customer_was_erased_records_and_sends_nothing(
    redis: redis_lib.Redis, producer: EventProducer, unique: Callable[[str], str]
) -> None:
    """The tombstone is read with the decision's offers (one round trip): still checked first."""
    store = CampaignStore(redis, processed_ttl_s=600, offers_ttl_s=600)
    publish = CrashingPublish(acked_publisher(producer, topics.OUTCOMES, 10.0))
    publish.crash = False
    handler = OffersHandler(store, Deliverer(store, OutboxAdapter(redis), publish=publish), unique("cmp"))
    ck = unique("ck_erased")
    decision = _decision(2)
    event = new_event(decision, customer_key=ck, source="tests")
    store.erase(ck, event.occurred_at)  # erased at the moment of the decision: the decision is older or as old
    handler(event, decision)
    assert store.offers(ck) == [] and redis.llen(outbox_key(ck)) == 0 and publish.calls == []
    assert store.offers_unless_erased(ck, event.occurred_at, [o.offer_id for o in decision.offers]) is None
