"""The thin flow end to end, through all six services as real processes on a real broker, Redis
and MLflow: consent + account events posted to the gateway → … → ranked recommendations with reasons."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from prometeo.contracts import topics
from prometeo_dev.demo import (
    ADVISOR_KEY,
    MARKETING_KEY,
    client_token,
    kpis,
    load_bank,
    recommendations,
    register_client,
    sign_in,
    wait_for_offers,
)
from prometeo_dev.demo_model import train_demo_model
from prometeo_dev.platform import SERVICES, Infrastructure, Platform, platform
from prometeo_dev.synthbank import SyntheticBank, branch_and_portfolio, generate_bank
from tests.bus_helpers import read_topic, scaled, wait_until
from tests.conftest import RUN_DIR

pytestmark = pytest.mark.e2e

CONSUMED_TOPICS = (
    topics.ACCOUNT_EVENTS,
    topics.CONSENT_EVENTS,
    topics.CUSTOMER_ERASURE,
    topics.FEATURES_UPDATED,
    topics.SCORES,
    topics.OFFERS,
    topics.OUTCOMES,
)


def _customer_ids(bank: SyntheticBank, n: int) -> list[str]:
    return bank.customers["customer_id"].head(n).tolist()


@pytest.fixture(scope="module")
def bank() -> SyntheticBank:
    return generate_bank(400, seed=11)


@pytest.fixture(scope="module")
def running(broker: str, redis_url: str, mlflow_uri: str, bank: SyntheticBank) -> Iterator[Platform]:
    infra = Infrastructure(broker, redis_url, mlflow_uri)
    train_demo_model(bank, mlflow_uri)
    with platform(Path(RUN_DIR / "platform"), infra, preferred_ports=False) as plat:
        yield plat


def test_every_service_answers_health_readiness_and_metrics(running: Platform) -> None:
    for name, _, _ in SERVICES:
        url = running.url(name)
        assert httpx.get(f"{url}/healthz").status_code == 200, name
        ready = httpx.get(f"{url}/readyz")
        assert ready.status_code == 200 and ready.json()["ready"] is True, (name, ready.text)
        assert "prometeo_" in httpx.get(f"{url}/metrics").text or name == "gateway", name


def test_events_flow_to_ranked_recommendations_with_reasons(running: Platform, bank: SyntheticBank) -> None:
    gateway = running.url("gateway")
    load = load_bank(gateway, bank)
    assert load.counts.get("accepted", 0) == load.received > 0
    summary = wait_for_offers(gateway, timeout=scaled(120))
    assert summary["offers_made"] > 0

    shown = [(cid, r) for cid in _customer_ids(bank, 100) if (r := recommendations(gateway, cid, "en"))]
    with_offers = [(cid, r) for cid, r in shown if r["recommendations"]]
    assert with_offers, "some demo customer must get an offer"
    cid, rec = with_offers[0]
    ranks = [o["rank"] for o in rec["recommendations"]]
    assert ranks == list(range(1, len(ranks) + 1))
    values = [o["expected_value"] for o in rec["recommendations"]]
    assert values == sorted(values, reverse=True)
    explained = all(o["reasons"] and o["reasons"][0]["text"] and o["rules_passed"] for o in rec["recommendations"])
    assert explained, json.dumps(rec, indent=1)
    assert rec["customer_key"].startswith("ck_") and cid not in str(rec)  # only the pseudonymous key

    # The advisor reports the outcome; KPIs see it.
    offer = rec["recommendations"][0]
    reported = httpx.post(
        f"{gateway}/v1/customers/{cid}/outcomes",
        headers={"X-API-Key": ADVISOR_KEY},
        json={
            "offer_id": offer["offer_id"],
            "product": offer["product"],
            "outcome": "accepted",
            "channel": offer["channel"],
        },
    )
    assert reported.status_code in (200, 201, 202), reported.text
    wait_until(lambda: kpis(gateway)["outcomes"].get("accepted", 0) >= 1, timeout=30)


def test_a_crm_client_and_a_signed_in_advisor_read_recommendations(running: Platform, bank: SyntheticBank) -> None:
    """OAuth2 client credentials for a machine, OIDC for a person; the advisor sees only her portfolio."""
    gateway = running.url("gateway")
    secret = register_client(gateway, sign_in(gateway, "admin"), "e2e-crm", ["crm"])
    token = client_token(gateway, "e2e-crm", secret)
    ids = _customer_ids(bank, 100)
    assert any(recommendations(gateway, cid, "en", token=token) for cid in ids), "the CRM client read nothing"

    regions = bank.customers["region"].head(100).tolist()
    portfolio = [branch_and_portfolio(i, r)["advisor_id"] for i, r in enumerate(regions)]
    ana = sign_in(gateway, "ana.advisor")
    mine = [cid for cid, p in zip(ids, portfolio, strict=True) if p == "adv-sp-01"]
    others = [cid for cid, p in zip(ids, portfolio, strict=True) if p != "adv-sp-01"]
    assert mine and others
    # The gateway learns each customer's portfolio from the profile events (its own consumer).
    wait_until(lambda: any(recommendations(gateway, cid, "en", token=ana) for cid in mine), timeout=60)
    assert not any(recommendations(gateway, cid, "en", token=ana) for cid in others[:5])


def test_gateway_refuses_without_a_key_and_audits_reads(running: Platform, broker: str, bank: SyntheticBank) -> None:
    gateway = running.url("gateway")
    first = _customer_ids(bank, 1)[0]
    r = httpx.get(f"{gateway}/v1/customers/{first}/recommendations")
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    r = httpx.get(f"{gateway}/v1/kpis", headers={"X-API-Key": ADVISOR_KEY})
    assert r.status_code == 403
    assert httpx.get(f"{gateway}/v1/kpis", headers={"X-API-Key": MARKETING_KEY}).status_code == 200
    audits = read_topic(broker, topics.AUDIT, min_count=1)
    assert audits and all(first.encode() not in a.value for a in audits)


def test_malformed_message_on_every_consumed_topic_is_dead_lettered(running: Platform, broker: str) -> None:
    from prometeo.bus import EventProducer

    producer = EventProducer(broker, "e2e-poison")
    for topic in CONSUMED_TOPICS:
        producer.publish_raw(topic, b"ck_poison_e2e", b'{"type": "not-an-event"', [])
    producer.flush()
    producer.close()
    for topic in CONSUMED_TOPICS:
        dead = read_topic(
            broker, topics.dead_letter_topic(topic), timeout=30, match=lambda rec: rec.key == b"ck_poison_e2e"
        )
        assert dead, f"no dead letter on {topic}.dlq"
        assert dict(dead[0].headers)["dlq.origin_topic"] == topic.encode()
        assert dict(dead[0].headers)["dlq.reason"]
    for name, _, _ in SERVICES:
        assert httpx.get(f"{running.url(name)}/readyz").status_code == 200, f"{name} stopped after poison"


def test_the_living_demo_campaign_has_weeks_of_history_and_a_real_lift(
    running: Platform, broker: str, bank: SyntheticBank
) -> None:
    """`make run`'s last stage on the real services: enrolments backfilled on scores.v1 dated over past weeks,
    responses drawn from the bank's hidden behaviour reported through the gateway; campaigns computes the rest."""
    from datetime import date

    from prometeo_dev.living import DEMO_CAMPAIGN, run_living_demo

    gateway = running.url("gateway")
    if kpis(gateway).get("offers_made", 0) == 0:  # run on its own: the bank is not in yet
        load_bank(gateway, bank)
        wait_for_offers(gateway, timeout=scaled(120))
    report = run_living_demo(gateway, broker, bank, timeout_s=scaled(45))
    experiment = report.experiment
    assert experiment["campaign_id"] == DEMO_CAMPAIGN and experiment["control_share"] == 0.2
    assert experiment["test"]["offers"] > 0 and experiment["control"]["offers"] > 0
    assert experiment["test"]["conversions"] > 0
    lift = experiment["lift"]
    assert lift["absolute"] > 0 and lift["ci95_high"] > lift["absolute"] > lift["ci95_low"]
    assert "lift +" in report.line() and "95 % CI" in report.line()

    series = httpx.get(f"{gateway}/v1/kpis/series", params={"days": 90}, headers={"X-API-Key": MARKETING_KEY})
    series.raise_for_status()
    points = series.json()["points"]
    offered = [date.fromisoformat(p["day"]) for p in points if p["offers"] > 0]
    accepted = [date.fromisoformat(p["day"]) for p in points if p["accepted"] > 0]
    assert (max(offered) - min(offered)).days >= 21 and len(offered) >= 15
    assert (max(accepted) - min(accepted)).days >= 14

    def emails_sent() -> int:
        r = httpx.get(f"{gateway}/v1/campaigns/{DEMO_CAMPAIGN}", headers={"X-API-Key": MARKETING_KEY}, timeout=10)
        return int(r.json().get("steps", {}).get("email", {}).get("sent", 0))

    # The test group's e-mails go out through the campaign's own sequence; the holdout gets nothing.
    wait_until(lambda: emails_sent() > 0, timeout=30)
