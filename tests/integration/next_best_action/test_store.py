from __future__ import annotations

from collections.abc import Callable

import pytest
import redis as redis_lib

from next_best_action.domain.decision import ContactHistory, decide
from next_best_action.store import NbaStore
from prometeo.contracts import Channel, ProductCode
from tests.unit.next_best_action.factories import NOW, default_policy, scores

pytestmark = pytest.mark.integration


def test_contacts_and_daily_volume_are_recorded_once_per_offer(
    redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    store = NbaStore(redis, processed_ttl_s=60, scores_ttl_s=60, contact_retention_days=90, erased_ttl_s=60)
    ck, day = unique("ck_test"), unique("day")
    decision = decide(scores(), {Channel.IN_APP}, ContactHistory(), NOW, default_policy(), decision_id=unique("dc"))
    store.record_contacts(ck, decision, day)
    store.record_contacts(ck, decision, day)  # a redelivered decision
    assert store.volume(day) == {ProductCode.CREDIT_CARD: 1}
    [contact] = store.history(ck).contacts
    assert (contact.product, contact.channel, contact.at) == (ProductCode.CREDIT_CARD, Channel.IN_APP, NOW)


def test_older_scores_never_replace_newer_ones(redis: redis_lib.Redis, unique: Callable[[str], str]) -> None:
    from datetime import timedelta

    store = NbaStore(redis, processed_ttl_s=60, scores_ttl_s=60, contact_retention_days=90, erased_ttl_s=60)
    ck = unique("ck_test")
    assert store.save_scores(ck, scores({ProductCode.SAVINGS: 0.9}), NOW)
    assert not store.save_scores(ck, scores({ProductCode.SAVINGS: 0.1}), NOW - timedelta(minutes=1))
    latest = store.latest_scores(ck)
    assert latest is not None and latest.scores[0].propensity == 0.9


def test_deliveries_made_elsewhere_count_as_contacts_once(redis: redis_lib.Redis, unique: Callable[[str], str]) -> None:
    from datetime import timedelta

    store = NbaStore(redis, processed_ttl_s=60, scores_ttl_s=60, contact_retention_days=90, erased_ttl_s=60)
    ck, day = unique("ck_test"), unique("day")
    decision = decide(scores(), {Channel.IN_APP}, ContactHistory(), NOW, default_policy(), decision_id=unique("dc"))
    store.record_contacts(ck, decision, day)
    own = decision.offers[0]
    # Our own offer's delivery changes nothing; a campaign's e-mail and SMS are two more contacts.
    store.record_delivery(ck, own.offer_id, own.product, own.channel, NOW + timedelta(hours=1))
    store.record_delivery(ck, "of_campaign", ProductCode.SAVINGS, Channel.EMAIL, NOW)
    store.record_delivery(ck, "of_campaign", ProductCode.SAVINGS, Channel.SMS, NOW + timedelta(days=3))
    store.record_delivery(ck, "of_campaign", ProductCode.SAVINGS, Channel.SMS, NOW + timedelta(days=4))  # replay
    history = store.history(ck)
    assert len(history.contacts) == 3
    assert history.contacts_since(NOW) == 3 and history.offered_since(ProductCode.SAVINGS, NOW)
    assert store.volume(day) == {ProductCode.CREDIT_CARD: 1}  # the daily cap counts our decisions only


def test_scores_kept_as_their_wire_payload_read_back_as_the_model(
    redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    """The stream keeps the scores event's payload as it arrived (validated on decode), not a re-dump."""
    import orjson

    from prometeo.contracts.events import ScoresComputedV1

    store = NbaStore(redis, processed_ttl_s=60, scores_ttl_s=60, contact_retention_days=90, erased_ttl_s=60)
    ck = unique("ck_test")
    sent = scores({ProductCode.SAVINGS: 0.7, ProductCode.CREDIT_CARD: 0.2})
    wire = orjson.loads(sent.model_dump_json())
    pipe = store.pipeline()
    store.put_scores(ck, wire, NOW, pipe)
    pipe.execute()
    latest = store.latest_scores_at(ck)
    assert latest is not None
    assert latest == (ScoresComputedV1.model_validate(wire), NOW) and latest[0] == sent
