from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
from fastapi.testclient import TestClient

from next_best_action.api.nba import DecisionPublic
from next_best_action.settings import get_settings
from prometeo import keys
from prometeo.contracts import Channel, Envelope, ProductCode, decode, new_event, topics
from prometeo.contracts.events import (
    ConsentChangedV1,
    ConsentGrantedV1,
    ConsentStatus,
    CustomerErasureRequestedV1,
    DataScope,
    MarketingPermission,
    MarketingPermissionChangedV1,
    OfferDecidedV1,
    OutcomeKind,
    OutcomeRecordedV1,
)
from prometeo.web import fastpath
from tests.app_helpers import handled
from tests.bus_helpers import publish, read_topic, wait_until
from tests.unit.next_best_action.factories import scores

pytestmark = pytest.mark.integration

CC, SAV, AUTO_INS = ProductCode.CREDIT_CARD, ProductCode.SAVINGS, ProductCode.AUTO_INSURANCE
SRC = "tests"


def grant(broker: str, ck: str, channels: list[Channel], consent_id: str = "c-1") -> None:
    payload = ConsentGrantedV1(
        consent_id=consent_id, institution="bank-x", scopes=[DataScope.ACCOUNTS], marketing_channels=channels
    )
    publish(broker, topics.CONSENT_EVENTS, [new_event(payload, customer_key=ck, source=SRC)])


def wait_permissions(redis: redis_lib.Redis, ck: str, present: bool = True) -> None:
    key = keys.customer(keys.NBA, ck, "permissions")
    wait_until(lambda: bool(redis.hlen(key)) is present)


def decisions_for(broker: str, ck: str, count: int = 1) -> list[tuple[Envelope, OfferDecidedV1]]:
    records = read_topic(broker, topics.OFFERS, min_count=count, match=lambda r: r.key == ck.encode())
    assert len(records) >= count, f"expected {count} decision(s) for {ck}, got {len(records)}"
    out = []
    for r in records:
        envelope, payload = decode(r.value)
        assert isinstance(payload, OfferDecidedV1)
        out.append((envelope, payload))
    return out


def publish_scores(broker: str, ck: str, **kwargs: Any) -> Envelope:
    """`kwargs` are the scores factory's (held_products, held_elsewhere, profile, features)."""
    event = new_event(scores(**kwargs), customer_key=ck, source=SRC)
    publish(broker, topics.SCORES, [event])
    return event


def test_scores_event_becomes_an_explained_offer_on_offers_v1(
    nba: TestClient, broker: str, redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_test")
    grant(broker, ck, [Channel.IN_APP, Channel.EMAIL])
    wait_permissions(redis, ck)
    publish_scores(broker, ck)

    [(envelope, decision)] = decisions_for(broker, ck)
    assert envelope.source == "next-best-action"
    assert decision.decision_id.startswith("dc_") and decision.model_version == "7"
    [offer] = decision.offers
    assert (offer.product, offer.channel) == (CC, Channel.IN_APP)
    assert offer.offer_id.startswith("of_")
    assert offer.expected_value == pytest.approx(0.6 * 420)
    assert offer.reasons[0].code == "salary_inflow" and offer.reasons[0].text_es
    assert {"held_here", "held_elsewhere", "marketing_permission", "weekly_contact_cap"} <= set(offer.rules_passed)
    assert decision.blocked == {AUTO_INS.value: ["max_offers_per_decision"], SAV.value: ["max_offers_per_decision"]}
    # The offer made is now contact history.
    contacts = redis.zrange(keys.customer(keys.NBA, ck, "contacts"), 0, -1)
    assert contacts == [f"{offer.offer_id}|credit_card|in_app".encode()]


def test_without_marketing_permission_the_decision_is_no_action(
    nba: TestClient, broker: str, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_test")
    publish_scores(broker, ck)
    [(_, decision)] = decisions_for(broker, ck)
    assert decision.offers == []
    assert all("marketing_permission" in rules for rules in decision.blocked.values())


def test_products_held_here_or_elsewhere_are_suppressed(
    nba: TestClient, broker: str, redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_test")
    grant(broker, ck, [Channel.IN_APP])
    wait_permissions(redis, ck)
    publish_scores(broker, ck, held_products=[CC], held_elsewhere=[AUTO_INS])
    [(_, decision)] = decisions_for(broker, ck)
    assert [o.product for o in decision.offers] == [SAV]
    assert decision.blocked == {CC.value: ["held_here"], AUTO_INS.value: ["held_elsewhere"]}


def test_decline_starts_a_cooldown(
    nba: TestClient, broker: str, redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_test")
    grant(broker, ck, [Channel.IN_APP])
    declined = OutcomeRecordedV1(offer_id="of_earlier", product=CC, outcome=OutcomeKind.DECLINED)
    publish(broker, topics.OUTCOMES, [new_event(declined, customer_key=ck, source=SRC)])
    wait_permissions(redis, ck)
    wait_until(lambda: redis.hexists(keys.customer(keys.NBA, ck, "declines"), CC.value))
    publish_scores(broker, ck)
    [(_, decision)] = decisions_for(broker, ck)
    assert decision.blocked[CC.value] == ["decline_cooldown"]
    assert decision.offers[0].product is AUTO_INS


def test_weekly_contact_cap_and_idempotent_redelivery(
    nba: TestClient, broker: str, redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_test")
    grant(broker, ck, [Channel.IN_APP])
    wait_permissions(redis, ck)
    first = publish_scores(broker, ck)
    decisions_for(broker, ck, 1)
    publish(broker, topics.SCORES, [first])  # redelivered: must not decide (or contact) again
    publish_scores(broker, ck)
    decisions = decisions_for(broker, ck, 2)
    publish_scores(broker, ck)
    decisions_for(broker, ck, 3)
    # A sentinel on the same key (so the same partition, after the redelivery): once its decision is
    # out, a duplicate decision, had there been one, would be on the topic before it.
    publish_scores(broker, ck, profile={"digital_archetype": "nascent", "age_band": "35-44"})
    everything = wait_until(
        lambda: (found := decisions_for(broker, ck, 4)) and found[-1][1].segment == "nascent" and found
    )
    decisions = everything[:-1]
    assert len(decisions) == 3
    products = [d.offers[0].product for _, d in decisions[:2]]
    assert products == [CC, AUTO_INS]  # credit card not repeated within the repeat window
    last = decisions[2][1]
    assert last.offers == []
    assert "weekly_contact_cap" in last.blocked[SAV.value]
    assert redis.zcard(keys.customer(keys.NBA, ck, "contacts")) == 2


def test_get_nba_decides_in_real_time_with_localised_reasons(
    nba: TestClient, broker: str, redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_test")
    assert nba.get(f"/v1/nba/{ck}").status_code == 404
    assert nba.get(f"/v1/nba/{ck}").headers["content-type"] == "application/problem+json"
    publish_scores(broker, ck, held_elsewhere=[SAV])
    wait_until(lambda: nba.get(f"/v1/nba/{ck}").status_code == 200)

    es = nba.get(f"/v1/nba/{ck}", params={"lang": "es"}).json()
    assert set(es) == {"customer_key", "decision_id", "model_version", "decided_at", "objective", "offers", "blocked"}
    assert es["customer_key"] == ck and es["model_version"] == "7"
    # No outbound permission: the customer is talking to an advisor.
    assert [(o["product"], o["channel"]) for o in es["offers"]] == [
        ("credit_card", "advisor"),
        ("auto_insurance", "advisor"),
    ]
    offer = es["offers"][0]
    assert set(offer) == {"offer_id", "product", "channel", "propensity", "expected_value", "reasons", "rules_passed"}
    assert offer["reasons"] == [{"code": "salary_inflow", "text": "Créditos de salario regulares", "weight": 0.4}]
    assert "inbound_conversation" in offer["rules_passed"]
    assert es["blocked"] == {"savings": ["held_elsewhere"]}
    en = nba.get(f"/v1/nba/{ck}", params={"lang": "en"}).json()
    assert en["offers"][0]["reasons"][0]["text"] == "Regular salary credits"
    assert nba.get(f"/v1/nba/{ck}", params={"lang": "fr"}).status_code == 422

    accepted = OutcomeRecordedV1(offer_id=offer["offer_id"], product=CC, outcome=OutcomeKind.ACCEPTED)
    publish(broker, topics.OUTCOMES, [new_event(accepted, customer_key=ck, source=SRC)])
    wait_until(lambda: nba.get(f"/v1/nba/{ck}").json()["blocked"].get("credit_card") == ["held_here"])


def test_consent_revocation_drops_permissions(
    nba: TestClient, broker: str, redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_test")
    grant(broker, ck, [Channel.IN_APP], consent_id="c-a")
    grant(broker, ck, [Channel.SMS], consent_id="c-b")
    wait_until(lambda: redis.hlen(keys.customer(keys.NBA, ck, "permissions")) == 2)
    revoked = ConsentChangedV1(consent_id="c-a", status=ConsentStatus.REVOKED)
    publish(broker, topics.CONSENT_EVENTS, [new_event(revoked, customer_key=ck, source=SRC)])
    wait_until(lambda: redis.hkeys(keys.customer(keys.NBA, ck, "permissions")) == [b"c-b"])


def test_explicit_opt_outs_and_opt_ins_override_the_consents_channels(
    nba: TestClient, broker: str, redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_test")
    grant(broker, ck, [Channel.IN_APP])
    wait_permissions(redis, ck)
    registry = MarketingPermissionChangedV1(
        channel=Channel.IN_APP,
        permission=MarketingPermission.OPTED_OUT,
        source="do_not_contact_registry",
        registry="reus",
    )
    publish(broker, topics.CONSENT_EVENTS, [new_event(registry, customer_key=ck, source=SRC)])
    wait_until(lambda: redis.hlen(keys.customer(keys.NBA, ck, "marketing")) == 1)
    publish_scores(broker, ck)
    [(_, blocked)] = decisions_for(broker, ck)
    assert blocked.offers == [] and "marketing_permission" in blocked.blocked[CC.value]

    opt_in = MarketingPermissionChangedV1(channel=Channel.EMAIL, permission=MarketingPermission.OPTED_IN)
    publish(broker, topics.CONSENT_EVENTS, [new_event(opt_in, customer_key=ck, source=SRC)])
    wait_until(lambda: redis.hlen(keys.customer(keys.NBA, ck, "marketing")) == 2)
    publish_scores(broker, ck)
    decision = next(d for _, d in decisions_for(broker, ck, count=2) if d.decision_id != blocked.decision_id)
    assert [(o.product, o.channel) for o in decision.offers] == [(CC, Channel.EMAIL)]


def test_erasure_deletes_every_nba_key_of_the_customer(
    nba: TestClient, broker: str, redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_test")
    grant(broker, ck, [Channel.IN_APP])
    wait_permissions(redis, ck)
    publish_scores(broker, ck)
    decisions_for(broker, ck)
    pattern = keys.customer_pattern(keys.NBA, ck)
    assert len(list(redis.scan_iter(match=pattern))) >= 3
    erasure = CustomerErasureRequestedV1(reason="data_subject_request")
    publish(broker, topics.CUSTOMER_ERASURE, [new_event(erasure, customer_key=ck, source=SRC)])
    wait_until(lambda: not list(redis.scan_iter(match=pattern)))
    assert nba.get(f"/v1/nba/{ck}").status_code == 404
    # Scores still in flight after the erasure are not stored again.
    group, before = get_settings().group_id, handled(get_settings().group_id, topics.SCORES)
    publish_scores(broker, ck)
    wait_until(lambda: handled(group, topics.SCORES) > before)
    assert not list(redis.scan_iter(match=pattern))


def test_policy_endpoint_and_hot_reload(nba: TestClient, policy_file: Path) -> None:
    body = nba.get("/v1/policy").json()
    assert body["version"] == "2025.1-default" and body["last_reload_error"] is None
    assert body["policy"]["contact"]["max_contacts_per_week"] == 2
    original = policy_file.read_text()
    try:
        policy_file.write_text(original.replace('version: "2025.1-default"', 'version: "hot"'))
        os.utime(policy_file, (time.time() + 2, time.time() + 2))
        assert nba.get("/v1/policy").json()["version"] == "hot"
        policy_file.write_text(original.replace("value_brl: 60", "value_brl: zero"))
        os.utime(policy_file, (time.time() + 4, time.time() + 4))
        refused = nba.get("/v1/policy").json()
        assert refused["version"] == "hot"
        assert "products.savings.value_brl" in refused["last_reload_error"]
    finally:
        policy_file.write_text(original)
        os.utime(policy_file, (time.time() + 6, time.time() + 6))
        assert nba.get("/v1/policy").json()["version"] == "2025.1-default"


def test_presenting_records_the_offers_once_per_scores_and_day(
    nba: TestClient, broker: str, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_test")
    assert nba.post(f"/v1/nba/{ck}/presentations").status_code == 404
    publish_scores(broker, ck)
    wait_until(lambda: nba.get(f"/v1/nba/{ck}").status_code == 200)
    # Shown to an advisor (the gateway names them): the published decision carries whom, for adherence.
    first = nba.post(f"/v1/nba/{ck}/presentations", params={"lang": "en", "presented_to": "adv-sp-01"}).json()
    again = nba.post(f"/v1/nba/{ck}/presentations").json()
    assert first["offers"] and first["decision_id"] == again["decision_id"]
    assert [o["offer_id"] for o in first["offers"]] == [o["offer_id"] for o in again["offers"]]
    published = [p for _, p in decisions_for(broker, ck, count=2) if p.decision_id == first["decision_id"]]
    assert len({p.decision_id for p in published}) == 1
    assert {o.offer_id for o in published[0].offers} == {o["offer_id"] for o in first["offers"]}
    assert published[0].presented_to == "adv-sp-01"
    # The preview stays read-only: a fresh id every time, nothing published for it.
    assert nba.get(f"/v1/nba/{ck}").json()["decision_id"] != first["decision_id"]
    # Another objective is another decision: ranked by propensity (× channel factor) instead of value.
    by_conversion = nba.post(f"/v1/nba/{ck}/presentations", params={"objective": "conversion"}).json()
    assert first["objective"] == "expected_value" and by_conversion["objective"] == "conversion"
    assert by_conversion["decision_id"] != first["decision_id"]
    assert [o["product"] for o in first["offers"]] == ["credit_card", "auto_insurance", "savings"]
    assert [o["product"] for o in by_conversion["offers"]] == ["credit_card", "savings", "auto_insurance"]
    # The answer is written without a response-model pass: it must still be exactly the declared model.
    assert DecisionPublic.model_validate(first).model_dump(mode="json") == first
    assert first["decided_at"].endswith("Z")


def test_a_repeat_of_an_acknowledged_presentation_writes_no_second_record(
    nba: TestClient, broker: str, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_test")
    publish_scores(broker, ck)
    wait_until(lambda: nba.get(f"/v1/nba/{ck}").status_code == 200)
    shown = []
    for advisor in ("adv-1", "adv-1", "adv-2", "adv-1", "adv-3"):
        response = nba.post(f"/v1/nba/{ck}/presentations", params={"presented_to": advisor})
        assert response.status_code == 200 and response.json()["offers"]
        shown.append(response.json()["decision_id"])
    assert len(set(shown)) == 1

    # Each distinct payload once, in order: the repeats of adv-1's were already acknowledged.
    def presentation(record: Any) -> bool:
        payload = decode(record.value)[1]
        return record.key == ck.encode() and isinstance(payload, OfferDecidedV1) and payload.decision_id == shown[0]

    records = read_topic(broker, topics.OFFERS, min_count=3, match=presentation)
    assert [decode(r.value)[1].presented_to for r in records] == ["adv-1", "adv-2", "adv-3"]  # type: ignore[attr-defined]


def test_the_fast_presentation_handler_answers_as_fastapis_own(
    nba: TestClient, broker: str, unique: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """prometeo.web.fastpath: the route's own handler skips FastAPI's dependency solving for inputs FastAPI
    accepts and hands it every other request; the answers are the same either way (the decision's time aside)."""
    ck = unique("ck_test")
    publish_scores(broker, ck)
    wait_until(lambda: nba.get(f"/v1/nba/{ck}").status_code == 200)
    cases: list[tuple[str, dict[str, str]]] = [
        (ck, {"lang": "en", "presented_to": "adv-sp-01"}),
        (ck, {"objective": "conversion"}),
        (ck, {"presented_to": "a" * 64}),
        (ck, {"presented_to": "a" * 65}),
        (ck, {"lang": "fr"}),
        (ck, {"lang": ""}),
        (ck, {"objective": "profit"}),
        (unique("ck_test"), {}),
    ]

    def answers() -> list[tuple[int, str, dict[str, Any]]]:
        out = []
        for customer, params in cases:
            response = nba.post(f"/v1/nba/{customer}/presentations", params=params)
            body = response.json()
            body.pop("decided_at", None)
            out.append((response.status_code, response.headers["content-type"], body))
        return out

    fast = answers()
    assert [status for status, _, _ in fast] == [200, 200, 200, 422, 422, 422, 422, 404]
    monkeypatch.setattr(fastpath, "ENABLED", False)
    assert answers() == fast


def test_no_presentation_for_a_customer_who_objected_to_profiling(
    nba: TestClient, broker: str, redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_test")
    publish_scores(broker, ck)
    wait_until(lambda: nba.get(f"/v1/nba/{ck}").status_code == 200)
    redis.hset(keys.customer(keys.NBA, ck, "privacy"), "profiling_objected", "1")
    for response in (nba.get(f"/v1/nba/{ck}"), nba.post(f"/v1/nba/{ck}/presentations")):
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["title"] == "Profiling objected"
