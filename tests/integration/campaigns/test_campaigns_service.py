from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import redis as redis_lib
from fastapi.testclient import TestClient

from campaigns.delivery import delivered_event_id
from campaigns.domain.preview import AudienceMember
from campaigns.store import CampaignStore, OfferRecord, kpi_key
from prometeo import clock, keys
from prometeo.contracts import Channel, ProductCode, decode, new_event, topics, utcnow
from prometeo.contracts.events import (
    ActionKind,
    ActionTriggeredV1,
    ConsentGrantedV1,
    CustomerErasureRequestedV1,
    OfferDecidedV1,
    OutcomeRecordedV1,
    RankedOffer,
    ReasonCode,
    ScoresComputedV1,
)
from prometeo.permissions import MarketingPermissions
from tests.bus_helpers import publish, read_topic, wait_until

pytestmark = pytest.mark.integration
SRC = "tests"


def decision(*products: tuple[ProductCode, Channel]) -> OfferDecidedV1:
    decision_id = "dc_" + uuid.uuid4().hex
    return OfferDecidedV1(
        decision_id=decision_id,
        model_version="7",
        offers=[
            RankedOffer(
                offer_id=f"of_{uuid.uuid4().hex}",
                product=p,
                channel=c,
                propensity=0.5,
                expected_value=100.0,
                reasons=[ReasonCode(code="salary_inflow", text_en="Salary", text_es="Salario", weight=0.3)],
                rules_passed=["held_here", "marketing_permission"],
            )
            for p, c in products
        ],
        blocked={"mortgage": ["age_band"]},
    )


def offers_of(client: TestClient, ck: str) -> list[dict]:
    return client.get(f"/v1/offers/{ck}").json()["offers"]


def delivered(client: TestClient, ck: str, count: int = 1) -> list[dict]:
    return wait_until(
        lambda: (o := offers_of(client, ck)) and len(o) >= count and all(x["status"] == "delivered" for x in o) and o
    )


def test_offer_is_recorded_delivered_to_the_outbox_and_reported(
    campaigns_client: TestClient, broker: str, redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_test")
    before = campaigns_client.get("/v1/kpis").json()
    payload = decision((ProductCode.CREDIT_CARD, Channel.SMS))
    event = new_event(payload, customer_key=ck, source="next-best-action")
    publish(broker, topics.OFFERS, [event, event])  # a redelivery changes nothing

    [offer] = delivered(campaigns_client, ck)
    assert offer["offer_id"] == payload.offers[0].offer_id
    assert (offer["product"], offer["channel"], offer["adapter"]) == ("credit_card", "sms", "outbox")
    assert offer["reason_codes"] == ["salary_inflow"]
    outbox = redis.lrange(keys.customer(keys.CAMPAIGNS, ck, "outbox"), 0, -1)
    assert [json.loads(x)["offer_id"] for x in outbox] == [offer["offer_id"]]

    [record] = read_topic(broker, topics.OUTCOMES, match=lambda r: r.key == ck.encode())
    envelope, outcome = decode(record.value)
    assert isinstance(outcome, OutcomeRecordedV1)
    assert (outcome.outcome, outcome.offer_id, outcome.channel) == ("delivered", offer["offer_id"], Channel.SMS)
    assert envelope.event_id == delivered_event_id(offer["offer_id"])
    after = wait_until(
        lambda: (
            (k := campaigns_client.get("/v1/kpis").json())["outcomes"]["delivered"] > before["outcomes"]["delivered"]
            and k
        )
    )
    assert after["offers_made"] >= before["offers_made"] + 1
    assert after["contacts"] >= before["contacts"] + 1
    assert after["decisions"] >= before["decisions"] + 1


def test_a_triggered_action_is_delivered_once_and_reported(
    campaigns_client: TestClient, broker: str, redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_test")
    before = campaigns_client.get("/v1/kpis").json()
    maturing = ActionTriggeredV1(
        action_id=f"ac_{uuid.uuid4().hex}",
        trigger="contract_maturing",
        trigger_key="contract_maturing:acc-1:2026-12-20",
        kind=ActionKind.OFFER,
        action="investment_fund",
        product=ProductCode.INVESTMENT_FUND,
        channel=Channel.WHATSAPP,
        detail={"days_left": "19"},
    )
    retention = ActionTriggeredV1(
        action_id=f"ac_{uuid.uuid4().hex}",
        trigger="activity_drop",
        trigger_key="activity_drop:202612",
        kind=ActionKind.RETENTION,
        action="retention_call",
        channel=Channel.ADVISOR,
    )
    events = [new_event(a, customer_key=ck, source="next-best-action") for a in (maturing, retention)]
    publish(broker, topics.OFFERS, [events[0], events[0], events[1]])  # a redelivery changes nothing

    offers = {o["offer_id"]: o for o in delivered(campaigns_client, ck, count=2)}
    assert set(offers) == {maturing.action_id, retention.action_id}
    assert (offers[maturing.action_id]["product"], offers[maturing.action_id]["trigger"]) == (
        "investment_fund",
        "contract_maturing",
    )
    assert offers[retention.action_id]["action"] == "retention_call" and offers[retention.action_id]["advisor_task"]
    outbox = [json.loads(x) for x in redis.lrange(keys.customer(keys.CAMPAIGNS, ck, "outbox"), 0, -1)]
    assert sorted(x["offer_id"] for x in outbox) == sorted(offers)  # one delivery each
    assert {x["offer_id"]: x["metadata"]["trigger"] for x in outbox}[retention.action_id] == "activity_drop"

    # The offer's `delivered` outcome, once; the retention call names no product, so it is only counted.
    [record] = read_topic(broker, topics.OUTCOMES, match=lambda r: r.key == ck.encode())
    envelope, outcome = decode(record.value)
    assert isinstance(outcome, OutcomeRecordedV1)
    assert (outcome.outcome, outcome.offer_id, outcome.channel) == ("delivered", maturing.action_id, Channel.WHATSAPP)
    assert envelope.event_id == delivered_event_id(maturing.action_id)
    after = wait_until(
        lambda: (
            (k := campaigns_client.get("/v1/kpis").json())["by_trigger"].get("contract_maturing", {}).get("outcomes")
            and k["by_trigger"]["contract_maturing"]["outcomes"]["delivered"]
            > before["by_trigger"].get("contract_maturing", {"outcomes": {"delivered": 0}})["outcomes"]["delivered"]
            and k
        )
    )
    assert after["actions_triggered"] - before["actions_triggered"] == 2
    assert after["contacts"] - before["contacts"] == 2
    assert after["by_trigger"]["activity_drop"]["contacts"] >= 1
    # Outcomes can be reported against the action id.
    response = campaigns_client.post(
        "/v1/outcomes",
        json={"customer_key": ck, "offer_id": maturing.action_id, "product": "investment_fund", "outcome": "accepted"},
    )
    assert response.status_code == 202
    wait_until(
        lambda: (
            "accepted" in {o["offer_id"]: o for o in offers_of(campaigns_client, ck)}[maturing.action_id]["outcomes"]
        )
    )


def test_adherence_per_advisor_counts_only_the_presented_advisors_own_outcomes(
    campaigns_client: TestClient, broker: str, unique: Callable[[str], str]
) -> None:
    ck, ana, bea = unique("ck_test"), unique("adv"), unique("adv")
    payload = decision((ProductCode.CREDIT_CARD, Channel.IN_APP)).model_copy(update={"presented_to": ana})
    event = new_event(payload, customer_key=ck, source="next-best-action")
    publish(broker, topics.OFFERS, [event, event])  # a redelivery is presented once
    [offer] = delivered(campaigns_client, ck)

    def advisor(who: str) -> dict:
        return campaigns_client.get("/v1/kpis").json()["by_advisor"].get(who, {})

    assert wait_until(lambda: advisor(ana).get("presented") == 1)
    assert advisor(ana)["adherence"] == 0.0

    def report(who: str, outcome: str) -> None:
        body = {"customer_key": ck, "offer_id": offer["offer_id"], "product": "credit_card", "outcome": outcome}
        assert campaigns_client.post("/v1/outcomes", json={**body, "advisor_id": who}).status_code == 202

    report(bea, "declined")  # another advisor's report is theirs, not adherence for the one shown the offer
    wait_until(lambda: advisor(bea).get("outcomes", {}).get("declined") == 1)
    assert advisor(ana)["acted_on"] == 0 and advisor(bea)["presented"] == advisor(bea)["acted_on"] == 0
    report(ana, "opened")
    report(ana, "accepted")  # a second report on the same offer acts on it no further
    wait_until(lambda: advisor(ana).get("outcomes", {}).get("accepted") == 1)
    assert (advisor(ana)["presented"], advisor(ana)["acted_on"], advisor(ana)["adherence"]) == (1, 1, 1.0)
    assert advisor(ana)["success_rate"] == 1.0


def test_outcome_post_publishes_and_updates_kpis(
    campaigns_client: TestClient, broker: str, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_test")
    payload = decision((ProductCode.PERSONAL_LOAN, Channel.WHATSAPP))
    publish(broker, topics.OFFERS, [new_event(payload, customer_key=ck, source="next-best-action")])
    [offer] = delivered(campaigns_client, ck)
    before = campaigns_client.get("/v1/kpis").json()

    response = campaigns_client.post(
        "/v1/outcomes",
        json={
            "customer_key": ck,
            "offer_id": offer["offer_id"],
            "product": "personal_loan",
            "outcome": "accepted",
            "revenue": "250.50",
        },
    )
    assert response.status_code == 202
    event_id = response.json()["event_id"]
    [record] = read_topic(
        broker,
        topics.OUTCOMES,
        match=lambda r: r.key == ck.encode() and decode(r.value)[0].event_id == uuid.UUID(event_id),
    )
    envelope, outcome = decode(record.value)
    assert envelope.customer_key == ck and envelope.source == "campaigns"
    assert isinstance(outcome, OutcomeRecordedV1)
    assert outcome.channel == Channel.WHATSAPP  # taken from the recorded offer
    assert outcome.revenue == Decimal("250.50")

    after = wait_until(
        lambda: (
            (k := campaigns_client.get("/v1/kpis").json())["outcomes"]["accepted"] > before["outcomes"]["accepted"]
            and k
        )
    )
    assert Decimal(after["revenue_accepted_brl"]) - Decimal(before["revenue_accepted_brl"]) >= Decimal("250.50")
    loan = after["by_product"]["personal_loan"]
    assert loan["outcomes"]["accepted"] >= 1 and 0 < loan["conversion_rate"] <= 1
    assert after["by_channel"]["whatsapp"]["outcomes"]["accepted"] >= 1
    assert 0 < after["acceptance_rate"] <= 1
    wait_until(lambda: "accepted" in offers_of(campaigns_client, ck)[0]["outcomes"])

    metrics = campaigns_client.get("/metrics").text
    assert 'prometeo_outcomes_total{channel="whatsapp",outcome="accepted",product="personal_loan"}' in metrics
    assert 'prometeo_campaign_kpi{kpi="acceptance_rate"}' in metrics
    assert 'prometeo_campaign_conversion_rate{dimension="product",value="personal_loan"}' in metrics


def test_kpis_by_segment_and_campaign_advisor_adherence_and_holdings(
    campaigns_client: TestClient, broker: str, unique: Callable[[str], str]
) -> None:
    ck, other = unique("ck_test"), unique("ck_test")
    before = campaigns_client.get("/v1/kpis").json()
    payload = decision((ProductCode.MORTGAGE, Channel.ADVISOR)).model_copy(update={"segment": "nascent"})
    publish(broker, topics.OFFERS, [new_event(payload, customer_key=ck, source="next-best-action")])
    [offer] = delivered(campaigns_client, ck)
    assert offer["advisor_task"] is True and offer["segment"] == "nascent"
    # The advisor calls and reports the result: the task was acted on (once, whatever follows).
    for outcome in ("accepted", "accepted"):
        assert (
            campaigns_client.post(
                "/v1/outcomes",
                json={
                    "customer_key": ck,
                    "offer_id": offer["offer_id"],
                    "product": "mortgage",
                    "outcome": outcome,
                    "channel": "advisor",
                },
            ).status_code
            == 202
        )
    held = [ProductCode.PAYROLL_ACCOUNT, ProductCode.CREDIT_CARD]
    publish(
        broker,
        topics.SCORES,
        [
            new_event(
                ScoresComputedV1(
                    model_name="m", model_version="1", feature_set_version="fs", scores=[], held_products=products
                ),
                customer_key=who,
                source="scoring",
            )
            # `other` starts with nothing, then gains two products (a count moving off 0 must work too).
            for who, products in ((ck, held), (other, []), (other, held[:1]), (other, held))
        ],
    )
    after = wait_until(
        lambda: (
            (k := campaigns_client.get("/v1/kpis").json())["advisor_tasks"] > before["advisor_tasks"]
            and k["customers_known"] >= before["customers_known"] + 2
            and k["outcomes"]["accepted"] >= before["outcomes"]["accepted"] + 2
            and k
        )
    )
    assert after["advisor_tasks"] - before["advisor_tasks"] == 1
    assert wait_until(lambda: campaigns_client.get("/v1/kpis").json()["advisor_adherence"] > 0)
    nascent = after["by_segment"]["nascent"]
    assert nascent["offers"] >= 1 and nascent["outcomes"]["accepted"] >= 2
    assert after["by_campaign"]["nba-always-on"]["offers"] >= 1
    assert after["customers_known"] - before["customers_known"] == 2
    assert after["multi_product_customers"] - before["multi_product_customers"] == 2
    assert after["contact_rate"] > 0

    # The held-together matrix: both now hold payroll and card together (other's earlier sets were undone).
    def pair(k: dict[str, Any]) -> int:
        return int(k.get("held_together", {}).get("credit_card", {}).get("payroll_account", 0))

    def holders(k: dict[str, Any]) -> int:
        return int(k.get("held_together", {}).get("payroll_account", {}).get("payroll_account", 0))

    assert wait_until(lambda: pair(campaigns_client.get("/v1/kpis").json()) - pair(before) == 2)
    assert holders(campaigns_client.get("/v1/kpis").json()) - holders(before) == 2

    # Erasure takes the customer out of the holdings aggregates.
    erasure = CustomerErasureRequestedV1(reason="data_subject_request")
    publish(broker, topics.CUSTOMER_ERASURE, [new_event(erasure, customer_key=other, source=SRC)])
    wait_until(lambda: campaigns_client.get("/v1/kpis").json()["customers_known"] == after["customers_known"] - 1)
    assert wait_until(lambda: pair(campaigns_client.get("/v1/kpis").json()) - pair(before) == 1)


def test_outcome_for_unknown_offer_or_wrong_product_is_a_problem(
    campaigns_client: TestClient, broker: str, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_test")
    unknown = campaigns_client.post(
        "/v1/outcomes", json={"customer_key": ck, "offer_id": "of_nope", "product": "savings", "outcome": "accepted"}
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"

    payload = decision((ProductCode.SAVINGS, Channel.EMAIL))
    publish(broker, topics.OFFERS, [new_event(payload, customer_key=ck, source="next-best-action")])
    [offer] = delivered(campaigns_client, ck)
    mismatch = campaigns_client.post(
        "/v1/outcomes",
        json={"customer_key": ck, "offer_id": offer["offer_id"], "product": "mortgage", "outcome": "accepted"},
    )
    assert mismatch.status_code == 422
    assert mismatch.json()["title"] == "Product mismatch"
    invalid = campaigns_client.post(
        "/v1/outcomes",
        json={"customer_key": ck, "offer_id": offer["offer_id"], "product": "savings", "outcome": "loved"},
    )
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "body.outcome"


def test_kpi_counters_apply_once_per_event(redis: redis_lib.Redis) -> None:
    store = CampaignStore(redis, processed_ttl_s=60, offers_ttl_s=60)
    marker = f"test-{uuid.uuid4().hex}"
    incs = [(kpi_key("totals"), "test_counter", 1)]
    assert store.count_once(marker, incs) is True
    assert store.count_once(marker, incs) is False


def test_erasure_removes_customer_keys_but_keeps_kpis(
    campaigns_client: TestClient, broker: str, redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_test")
    payload = decision((ProductCode.LIFE_INSURANCE, Channel.IN_APP))
    publish(broker, topics.OFFERS, [new_event(payload, customer_key=ck, source="next-best-action")])
    delivered(campaigns_client, ck)
    pattern = keys.customer_pattern(keys.CAMPAIGNS, ck)
    assert len(list(redis.scan_iter(match=pattern))) == 2  # offers + outbox
    kpis_before = campaigns_client.get("/v1/kpis").json()

    erasure = CustomerErasureRequestedV1(reason="consent_revoked")
    publish(broker, topics.CUSTOMER_ERASURE, [new_event(erasure, customer_key=ck, source=SRC)])
    wait_until(lambda: not list(redis.scan_iter(match=pattern)))
    assert offers_of(campaigns_client, ck) == []
    assert campaigns_client.get("/v1/kpis").json()["offers_made"] >= kpis_before["offers_made"]
    # A replay of the offer decided before the erasure does not bring the customer's data back.
    publish(
        broker,
        topics.OFFERS,
        [new_event(payload, customer_key=ck, source="next-best-action", occurred_at=utcnow() - timedelta(minutes=5))],
    )
    later = decision((ProductCode.SAVINGS, Channel.EMAIL))
    publish(broker, topics.OFFERS, [new_event(later, customer_key=ck, source="next-best-action")])
    [offer] = delivered(campaigns_client, ck)  # a decision made after the erasure is handled as usual
    assert offer["offer_id"] == later.offers[0].offer_id


def test_the_customers_behind_a_bar_page_newest_first_and_leave_on_erasure(redis: redis_lib.Redis) -> None:
    store = CampaignStore(redis, processed_ttl_s=60, offers_ttl_s=3600)
    campaign = f"drill-{uuid.uuid4().hex[:8]}"
    now = utcnow()
    cks = [f"ck_drill{i}-{campaign}" for i in range(3)]
    for i, ck in enumerate(cks):
        for j, product in enumerate(("savings", "credit_card")):
            store.save_offer(
                OfferRecord(
                    offer_id=f"of-{i}-{j}",
                    decision_id="d",
                    customer_key=ck,
                    product=product,
                    channel="email",
                    propensity=0.1,
                    expected_value=1.0,
                    reason_codes=[],
                    rules_passed=[],
                    decided_at=now - timedelta(minutes=10 - i),
                    outcomes=["accepted"] if j == 0 and i == 0 else [],
                    campaign_id=campaign,
                )
            )
    total, page = store.drill("campaign", campaign, offset=0, limit=2)
    assert total == 3 and [m.customer_key for m in page] == [cks[2], cks[1]]
    assert (page[0].offers, page[0].accepted) == (2, 0)
    _, [last] = store.drill("campaign", campaign, offset=2, limit=2)
    assert (last.customer_key, last.offers, last.accepted) == (cks[0], 2, 1)
    store.erase(cks[2], now)
    assert store.drill("campaign", campaign, offset=0, limit=10)[0] == 2


def test_a_campaign_preview_counts_the_consented_audience_and_its_expected_conversions(
    campaigns_client: TestClient, redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    store = CampaignStore(redis, processed_ttl_s=60, offers_ttl_s=3600)
    permissions = MarketingPermissions(redis, keys.CAMPAIGNS)
    archetype = unique("arch").replace("-", "_")  # a segment only this test's customers are in
    for i, (propensity, consented) in enumerate(((0.4, True), (0.1, True), (0.7, False))):
        ck = unique("ck_preview")
        profile = {"digital_archetype": archetype}
        store.save_audience(AudienceMember(ck, {}, {"credit_card": propensity}, profile, frozenset({"savings"})))
        if consented:
            consent = ConsentGrantedV1(
                consent_id=f"consent-{i}", institution="test-bank", scopes=[], marketing_channels=[Channel.EMAIL]
            )
            assert permissions.apply(ck, consent)
    body = {
        "campaign_id": "preview-only",
        "name": "Preview",
        "product": "credit_card",
        "target": {"all": [{"field": "segment.digital_archetype", "op": "eq", "value": archetype}]},
        "channels": ["email", "sms"],
        "starts_at": "2026-12-01T00:00:00Z",
        "ends_at": "2026-12-31T00:00:00Z",
        "budget": 10,
        "control_share": 0.5,
    }
    r = campaigns_client.post("/v1/campaigns:preview", json=body)
    assert r.status_code == 200, r.text
    preview = r.json()
    assert (preview["matching"], preview["contactable"], preview["entering"]) == (3, 2, 2)
    assert preview["expected_conversions"] == 0.25 and preview["scanned"] >= 3
    assert campaigns_client.get("/v1/campaigns/preview-only").status_code == 404  # nothing was created


def test_the_kpi_series_buckets_by_each_events_own_business_day_once(
    campaigns_client: TestClient, broker: str, unique: Callable[[str], str]
) -> None:
    """Offers and contacts on the decision's business day, outcomes on their own, a redelivery never twice."""
    ck = unique("ck_series")
    decided = datetime(2020, 3, 10, 14, 0, tzinfo=UTC)
    answered = datetime(2020, 3, 13, 2, 30, tzinfo=UTC)  # 23:30 on 12 March in São Paulo
    offer_event = new_event(
        decision((ProductCode.SAVINGS, Channel.EMAIL)), customer_key=ck, source="next-best-action", occurred_at=decided
    )
    publish(broker, topics.OFFERS, [offer_event])
    [offer] = delivered(campaigns_client, ck)

    def outcome(kind: str, revenue: str | None = None) -> Any:
        payload = OutcomeRecordedV1(
            offer_id=offer["offer_id"],
            product=ProductCode.SAVINGS,
            outcome=kind,
            revenue=Decimal(revenue) if revenue else None,
        )
        return new_event(payload, customer_key=ck, source="crm", occurred_at=answered)

    accepted = outcome("accepted", "42.10")
    # The accepted outcome delivered twice, then a later event on the same key (same partition, in order).
    publish(broker, topics.OUTCOMES, [accepted, accepted, outcome("clicked")])

    def day(points: list[dict[str, Any]], iso: str) -> dict[str, Any]:
        return next(p for p in points if p["day"] == iso)

    def series() -> list[dict[str, Any]]:
        with clock.pinned(datetime(2020, 3, 14, 12, 0, tzinfo=UTC)):
            r = campaigns_client.get("/v1/kpis/series", params={"days": 7})
        assert r.status_code == 200, r.text
        points: list[dict[str, Any]] = r.json()["points"]
        return points

    points = wait_until(lambda: (p := series()) and day(p, "2020-03-12")["accepted"] == 1 and p)
    assert [p["day"] for p in points] == [f"2020-03-{d:02d}" for d in range(8, 15)]
    tenth, twelfth = day(points, "2020-03-10"), day(points, "2020-03-12")
    assert (tenth["offers"], tenth["contacts"], tenth["contact_rate"], tenth["accepted"]) == (1, 1, 1.0, 0)
    assert Decimal(twelfth["revenue_brl"]) == Decimal("42.10") and twelfth["offers"] == 0
    wait_until(lambda: "clicked" in offers_of(campaigns_client, ck)[0]["outcomes"])
    assert day(series(), "2020-03-12")["accepted"] == 1  # the redelivery was not counted again
    assert campaigns_client.get("/v1/kpis/series", params={"days": 0}).status_code == 422
    # A CRM reporting late says when it happened: it lands on that day; before the decision or ahead is refused.
    late = {"customer_key": ck, "offer_id": offer["offer_id"], "product": "savings", "outcome": "declined"}
    for wrong in ("2020-03-10T13:00:00+00:00", (utcnow() + timedelta(hours=1)).isoformat()):
        refused = campaigns_client.post("/v1/outcomes", json=late | {"occurred_at": wrong})
        assert refused.status_code == 422 and refused.json()["title"] == "Outcome time out of range", wrong
    naive = campaigns_client.post("/v1/outcomes", json=late | {"occurred_at": "2020-03-11T12:00:00"})
    assert naive.status_code == 422
    r = campaigns_client.post("/v1/outcomes", json=late | {"occurred_at": "2020-03-11T12:00:00-03:00"})
    assert r.status_code == 202, r.text
    wait_until(lambda: day(series(), "2020-03-11")["declined"] == 1)
