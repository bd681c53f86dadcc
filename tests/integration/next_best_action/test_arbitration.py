"""Arbitration across customers on a real Redis: volume constraints and the product-share cap hold
under concurrent decisions; learned response state and business levers outlive the app."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import redis as redis_lib

from next_best_action.domain.decision import ContactHistory, Decision, decide, volume_day
from next_best_action.domain.policy import Policy, VolumeConstraint
from next_best_action.domain.rules import Rule
from next_best_action.settings import get_settings
from next_best_action.store import NbaStore
from prometeo.contracts import Channel, ProductCode, topics
from prometeo.contracts.events import BusinessLeverChangedV1
from tests.app_helpers import running_app
from tests.bus_helpers import payload_as, read_topic
from tests.unit.next_best_action.factories import NOW, default_policy, scores

pytestmark = pytest.mark.integration

CC, SAV = ProductCode.CREDIT_CARD, ProductCode.SAVINGS


def _store(redis: redis_lib.Redis) -> NbaStore:
    return NbaStore(redis, processed_ttl_s=60, scores_ttl_s=60, contact_retention_days=90, erased_ttl_s=60)


def _policy(**changes: object) -> Policy:
    return default_policy().model_copy(update=changes)


def _decision(policy: Policy, at_weeks: int, decision_id: str) -> Decision:
    # Each test decides in its own far-off week, so counters never mix between tests.
    at = NOW + timedelta(weeks=at_weeks)
    return decide(scores({CC: 0.6, SAV: 0.55}), {Channel.IN_APP}, ContactHistory(), at, policy, decision_id=decision_id)


def _reserve_concurrently(store: NbaStore, policy: Policy, week: int, n: int) -> list[Decision]:
    def one(i: int) -> Decision:
        return store.reserve(_decision(policy, week, f"dc_{uuid.uuid4().hex}"), policy, 1)

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(one, range(n)))


def test_a_volume_constraint_holds_across_concurrent_decisions(redis: redis_lib.Redis) -> None:
    policy = _policy(
        volume_constraints=[VolumeConstraint(product=CC, channel=Channel.IN_APP, period="day", max=25)],
        max_product_share=None,
    )
    decisions = _reserve_concurrently(_store(redis), policy, 101, 200)
    offered = Counter(d.offers[0].product for d in decisions)
    assert offered == {CC: 25, SAV: 175}  # never one credit card more: the rest fall to savings
    refused = next(d for d in decisions if d.offers[0].product is SAV)
    assert refused.blocked[CC.value] == [Rule.VOLUME_CONSTRAINT.value]
    day = volume_day(NOW + timedelta(weeks=101), policy)
    assert _store(redis).reserved("day", day, CC, Channel.IN_APP) == 25


def test_the_product_share_cap_holds_across_concurrent_decisions(redis: redis_lib.Redis) -> None:
    policy = _policy(volume_constraints=[], max_product_share=0.6, share_floor=5)
    decisions = _reserve_concurrently(_store(redis), policy, 102, 300)
    offered = Counter(d.offers[0].product for d in decisions)
    assert sum(offered.values()) == 300
    # Everyone prefers the credit card; it was admitted only while within 60 % of the week's offers.
    assert 0.6 * 300 - 2 <= offered[CC] <= 0.6 * 300 + 1


def test_a_redelivered_decision_reserves_nothing_twice(redis: redis_lib.Redis) -> None:
    policy = _policy(volume_constraints=[VolumeConstraint(product=CC, period="week", max=1)], max_product_share=None)
    store = _store(redis)
    first = store.reserve(_decision(policy, 103, "dc_same"), policy, 1)
    again = store.reserve(_decision(policy, 103, "dc_same"), policy, 1)
    other = store.reserve(_decision(policy, 103, "dc_other"), policy, 1)
    assert first.offers == again.offers and first.offers[0].product is CC
    assert other.offers[0].product is SAV


def _app_env(broker: str, redis_url: str, policy_file: Path, group: str) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "REDIS_URL": redis_url,
        "PROMETEO_ENV": "test",
        "PROMETEO_CONSUMER_SESSION_TIMEOUT_MS": "1500",
        "PROMETEO_NEXT_BEST_ACTION_GROUP_ID": group,
        "PROMETEO_NEXT_BEST_ACTION_POLICY_PATH": str(policy_file),
        "PROMETEO_NEXT_BEST_ACTION_POLICY_CHECK_INTERVAL_S": "0",
    }


def test_learned_responses_and_levers_survive_an_app_restart_and_lever_changes_are_audited(
    broker: str, redis_url: str, policy_file: Path, unique: Callable[[str], str]
) -> None:
    from next_best_action.main import app

    env = _app_env(broker, redis_url, policy_file, unique("nba-restart"))
    segment, ck = unique("segment"), unique("ck_test")
    decision = decide(
        scores({CC: 0.5}, profile={"digital_archetype": segment, "age_band": "35-44"}),
        {Channel.IN_APP},
        ContactHistory(),
        NOW,
        default_policy(),
        decision_id=unique("dc"),
    )
    actor = unique("marketing")
    with running_app(app, get_settings, env) as client:
        responses = app.state.responses
        responses.record_offers(ck, decision)
        responses.record_offers(ck, decision)  # redelivered: counted once
        assert responses.credit_acceptance(ck, decision.offers[0].offer_id, CC)
        assert not responses.credit_acceptance(ck, decision.offers[0].offer_id, CC)  # once
        put = client.put("/v1/levers/mortgage", json={"lever": 0.25, "actor": actor, "reason": "Q3 budget"})
        assert put.status_code == 200, put.text
    with running_app(app, get_settings, env) as client:
        [(cell, stats)] = app.state.responses.table(segment).items()
        assert cell == (CC, Channel.IN_APP) and (stats.trials, stats.successes) == (0.5, 1.0)
        mortgage = next(lv for lv in client.get("/v1/levers").json()["levers"] if lv["product"] == "mortgage")
        assert mortgage == {"product": "mortgage", "lever": 0.25, "default": 0.5, "overridden": True}
        assert client.request("DELETE", "/v1/levers/mortgage", json={"actor": actor}).status_code == 200
    records = read_topic(broker, topics.AUDIT, min_count=2, match=lambda r: actor.encode() in r.value)
    changes = [payload_as(r, BusinessLeverChangedV1) for r in records]
    assert [(c.previous, c.lever) for c in changes] == [(None, 0.25), (0.25, None)]
