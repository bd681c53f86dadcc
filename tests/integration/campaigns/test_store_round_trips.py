"""The store's combined writes: a save and a once-count in one round trip keep the once-semantics and order."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import redis as redis_lib

from campaigns.store import CampaignStore, OfferRecord

pytestmark = pytest.mark.integration


def _offer(customer_key: str, offer_id: str) -> OfferRecord:
    return OfferRecord(
        offer_id=offer_id,
        decision_id="dc_1",
        customer_key=customer_key,
        product="credit_card",
        channel="email",
        propensity=0.4,
        expected_value=12.0,
        reason_codes=["salary_inflow"],
        rules_passed=["consent"],
        decided_at=datetime(2026, 11, 20, 12, 0, tzinfo=UTC),
    )


def test_a_save_with_its_count_applies_the_count_once_and_reads_back_in_order(
    redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    store = CampaignStore(redis, processed_ttl_s=60, offers_ttl_s=60)
    ck = unique("ck_store")
    counters = f"test:counters:{uuid.uuid4().hex}"
    first, second = _offer(ck, "of_a"), _offer(ck, "of_b")
    recorded = (f"{uuid.uuid4().hex}.recorded", [(counters, "offers", 1)])

    store.save_offer(first, then_count=recorded)
    store.save_offer(first, then_count=recorded)  # a redelivery: saved again, counted once
    assert redis.hget(counters, "offers") == b"1"
    assert store.get_offers(ck, ["of_b", "of_a"]) == [None, first]

    delivered = second.model_copy(update={"status": "delivered"})
    marker = f"{uuid.uuid4().hex}.delivered"
    assert store.count_once(marker, [(counters, "contacts", 1)], then_save=delivered) is True
    assert store.count_once(marker, [(counters, "contacts", 1)], then_save=delivered) is False
    assert redis.hget(counters, "contacts") == b"1"
    assert store.get_offers(ck, ["of_a", "of_b"]) == [first, delivered]
    assert store.get_offers(ck, []) == []


def test_the_combined_count_survives_a_flushed_script_cache(
    redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    """EVAL in the pipeline: a Redis that lost its scripts (a restart) still counts."""
    store = CampaignStore(redis, processed_ttl_s=60, offers_ttl_s=60)
    counters = f"test:counters:{uuid.uuid4().hex}"
    redis.script_flush()
    store.save_offer(_offer(unique("ck_store"), "of_c"), then_count=(uuid.uuid4().hex, [(counters, "offers", 1)]))
    assert redis.hget(counters, "offers") == b"1"
