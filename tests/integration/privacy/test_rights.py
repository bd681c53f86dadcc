"""Data-subject rights end to end on the running platform (#17): access assembles a part from every
service, rectification reaches every service holding profile data, opposition stops scores and offers,
a campaign step due days later is refused without the marketing purpose, a Mexican customer in REUS
gets no SMS or call, and `prometeo_dev.privacy verify` proves an erasure (and finds planted residue)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
import redis as redis_lib

from prometeo import keys
from prometeo.contracts import Channel, new_event, topics, utcnow
from prometeo.identity import customer_key
from prometeo_dev import privacy
from tests.app_helpers import handled
from tests.bus_helpers import publish, read_topic, wait_until
from tests.integration.privacy.conftest import DAY_S, PSEUDONYM_KEY, Platform
from tests.unit.next_best_action.factories import scores

pytestmark = pytest.mark.integration


def _customer(label: str) -> tuple[str, str]:
    raw = f"PRIV{label}{uuid.uuid4().hex[:10]}".upper()
    return raw, customer_key(raw, PSEUDONYM_KEY)


def _consent(
    platform: Platform,
    raw: str,
    *,
    channels: list[str],
    purposes: list[str] | None = None,
    jurisdiction: str = "BR",
    consent_id: str | None = None,
) -> str:
    consent_id = consent_id or f"urn:privacy:{uuid.uuid4().hex[:10]}"
    body: dict[str, Any] = {
        "customer_id": raw,
        "consent_id": consent_id,
        "institution": "bank-x",
        "scopes": ["accounts", "transactions", "customers"],
        "marketing_channels": channels,
        "jurisdiction": jurisdiction,
    }
    if purposes is not None:
        body["purposes"] = purposes
    response = platform.ingest.post("/v1/consents", json=body)
    assert response.status_code == 201, response.text
    return consent_id


def _ingest(platform: Platform, raw: str, *payloads: tuple[str, dict[str, Any]]) -> None:
    items = [
        {
            "customer_id": raw,
            "source_event_id": uuid.uuid4().hex,
            "type": kind,
            "occurred_at": utcnow().isoformat(),
            "source": "core-banking",
            "payload": payload,
        }
        for kind, payload in payloads
    ]
    response = platform.ingest.post("/v1/events:batch", json={"events": items})
    assert response.status_code == 200 and response.json()["counts"]["accepted"] == len(items), response.text


def _profile(region: str = "SP", advisor: str = "adv-1") -> tuple[str, dict[str, Any]]:
    return (
        "customer.profiled",
        {"age_band": "35-44", "region": region, "branch_id": "br-1", "advisor_id": advisor},
    )


def _purchase(mcc: str = "4511", amount: str = "180.00") -> tuple[str, dict[str, Any]]:
    return (
        "transaction.booked",
        {
            "account_id": "acc-1",
            "transaction_id": uuid.uuid4().hex,
            "direction": "debit",
            "amount": amount,
            "booked_at": utcnow().isoformat(),
            "mcc": mcc,
            "kind": "purchase",
        },
    )


def _export(platform: Platform, raw: str) -> dict[str, Any]:
    response = platform.gateway.post("/v1/data-subject/export", json={"customer_id": raw}, headers=platform.admin())
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def _offered(platform: Platform, ck: str) -> list[dict[str, Any]]:
    offers: list[dict[str, Any]] = platform.campaigns.get(f"/v1/offers/{ck}").json().get("offers", [])
    return offers


def test_export_holds_a_part_from_every_service_and_rectification_reaches_each(
    platform: Platform, broker: str, redis: redis_lib.Redis
) -> None:
    raw, ck = _customer("export")
    _consent(platform, raw, channels=["in_app", "email"])
    _ingest(platform, raw, _profile(), _purchase())
    wait_until(lambda: redis.hget(keys.customer(keys.GATEWAY, ck, "scope"), "advisor") == b"adv-1")
    wait_until(lambda: redis.exists(keys.customer(keys.NBA, ck, "permissions")))
    publish(broker, topics.SCORES, [new_event(scores(), customer_key=ck, source="scoring")])
    wait_until(lambda: [o for o in _offered(platform, ck) if o["status"] == "delivered"])

    document = _export(platform, raw)
    parts = document["parts"]
    assert parts["ingest-openfinance"]["items"]["consents"] and parts["ingest-openfinance"]["consents"]["consents"]
    assert parts["feature-store"]["items"]["profile"]["age_band"] == "35-44"
    latest = parts["next-best-action"]["items"]["scores"]["scores"]
    assert latest["model_version"] == "7" and latest["scores"]  # scores with their model version
    assert parts["next-best-action"]["items"]["contacts"]
    assert parts["campaigns"]["items"]["offers"] and parts["campaigns"]["items"]["outbox"]
    assert parts["scoring"]["items"] == {} and "no per-customer state" in parts["scoring"]["note"]
    gateway = parts["gateway"]["items"]
    assert gateway["scope"]["advisor_id"] == "adv-1"
    assert any(r["resource"] == "data_export" for r in gateway["audit"])  # who read it, this very read included
    assert (document["language"], document["jurisdiction"]) == ("pt", "BR") and "LGPD" in document["summary"]

    response = platform.gateway.post(
        "/v1/data-subject/rectification",
        json={"customer_id": raw, "age_band": "45-54", "advisor_id": "adv-2"},
        headers=platform.admin(),
    )
    assert response.status_code == 202, response.text
    wait_until(lambda: redis.hget(keys.customer(keys.FEATURES, ck, "profile"), "age_band") == b"45-54")
    wait_until(lambda: redis.hget(keys.customer(keys.GATEWAY, ck, "scope"), "advisor") == b"adv-2")
    assert redis.hget(keys.customer(keys.GATEWAY, ck, "scope"), "branch") == b"br-1"  # uncorrected field kept
    listed = platform.gateway.get("/v1/data-subject/requests", headers=platform.admin()).json()["requests"]
    mine = {r["kind"]: r for r in listed if r["customer_key"] == ck}
    assert set(mine) == {"access", "rectification"} and mine["access"]["law"].startswith("LGPD")


def test_opposition_to_profiling_stops_features_scores_and_offers(
    platform: Platform, broker: str, redis: redis_lib.Redis
) -> None:
    raw, ck = _customer("object")
    _consent(platform, raw, channels=["in_app"])
    wait_until(lambda: redis.exists(keys.customer(keys.NBA, ck, "permissions")))
    response = platform.gateway.post("/v1/data-subject/objection", json={"customer_id": raw}, headers=platform.admin())
    assert response.status_code == 202, response.text
    wait_until(lambda: redis.hget(keys.customer(keys.NBA, ck, "privacy"), "profiling_objected") == b"1")
    wait_until(lambda: redis.hget(keys.customer(keys.FEATURES, ck, "privacy"), "profiling_objected") == b"1")

    seen = handled(platform.group("next-best-action"), topics.SCORES)
    _ingest(platform, raw, _purchase())
    publish(broker, topics.SCORES, [new_event(scores(), customer_key=ck, source="scoring")])
    wait_until(lambda: handled(platform.group("next-best-action"), topics.SCORES) > seen)
    wait_until(lambda: redis.exists(keys.customer(keys.FEATURES, ck, "txns")))  # the event was aggregated
    assert not redis.exists(keys.customer(keys.NBA, ck, "scores")), "scores kept despite the objection"
    offers = read_topic(broker, topics.OFFERS, timeout=1.0, match=lambda r: r.key == ck.encode())
    assert offers == []
    features = read_topic(broker, topics.FEATURES_UPDATED, timeout=1.0, match=lambda r: r.key == ck.encode())
    assert features == [], "features published for a customer who objected to profiling"
    # The consent for other purposes stands.
    exported = platform.ingest.post("/v1/customers:export", json={"customer_id": raw}).json()
    assert exported["profiling_objected"] and exported["consents"][0]["status"] == "authorised"


def test_a_campaign_step_due_days_later_is_refused_once_the_marketing_purpose_is_gone(
    platform: Platform, broker: str, redis: redis_lib.Redis
) -> None:
    raw, ck = _customer("purpose")
    run = uuid.uuid4().hex[:8]
    marketing = _consent(platform, raw, channels=["email", "sms"])
    _consent(platform, raw, channels=[], purposes=["cross_sell_analytics"])  # stands after the revocation
    campaign_id = f"privacy-{run}"
    definition = {
        "campaign_id": campaign_id,
        "name": "Cartão viagem",
        "product": "credit_card",
        "target": {"all": [{"field": "segment.test_run", "op": "eq", "value": run}]},
        "channels": ["email", "sms"],  # the default sequence: e-mail, then SMS 3 days later if unopened
        "budget": 5,
        "starts_at": (utcnow() - timedelta(hours=1)).isoformat(),
        "ends_at": (utcnow() + timedelta(days=1)).isoformat(),
    }
    assert platform.campaigns.post("/v1/campaigns", json=definition).status_code == 201
    wait_until(lambda: redis.exists(keys.customer(keys.CAMPAIGNS, ck, "purposes")))
    profile = {"test_run": run, "digital_archetype": "activated", "age_band": "35-44"}
    publish(broker, topics.SCORES, [new_event(scores(profile=profile), customer_key=ck, source="scoring")])

    def steps() -> dict[str, dict[str, int]]:
        counted: dict[str, dict[str, int]] = platform.campaigns.get(f"/v1/campaigns/{campaign_id}").json()["steps"]
        return counted

    wait_until(lambda: steps().get("email", {}).get("sent") == 1)
    # Before the SMS is due the customer withdraws the marketing consent; the analytics consent stands.
    revoked = platform.ingest.post(f"/v1/consents/{marketing}/status", json={"status": "revoked"})
    assert revoked.status_code == 200, revoked.text
    assert not revoked.json()["erasure_requested"]
    wait_until(lambda: steps().get("sms", {}).get("refused:purpose_not_granted:marketing") == 1, timeout=10 + 4 * DAY_S)
    assert "sent" not in steps()["sms"]


def test_a_mexican_customer_in_reus_gets_no_sms_or_call_but_other_channels_stand(
    platform: Platform, broker: str, redis: redis_lib.Redis
) -> None:
    raw, ck = _customer("reus")
    _consent(platform, raw, channels=["sms", "advisor", "in_app"], jurisdiction="MX")
    imported = platform.ingest.post(
        "/v1/marketing/do-not-contact:import",
        json={"registry": "REUS", "entries": [{"customer_id": raw, "channels": ["sms", "advisor"]}]},
    )
    assert imported.status_code == 200 and imported.json()["items"][0]["status"] == "accepted"
    wait_until(lambda: redis.hget(keys.customer(keys.CAMPAIGNS, ck, "registries"), "REUS") == b"advisor,sms")
    wait_until(lambda: redis.hget(keys.customer(keys.NBA, ck, "registries"), "REUS") == b"advisor,sms")
    publish(broker, topics.SCORES, [new_event(scores(), customer_key=ck, source="scoring")])
    [record] = read_topic(broker, topics.OFFERS, match=lambda r: r.key == ck.encode())
    from prometeo.contracts import decode

    _, decision = decode(record.value)
    channels = {o.channel for o in decision.offers}  # type: ignore[attr-defined]
    assert channels and not channels & {Channel.SMS, Channel.ADVISOR}
    export = _export(platform, raw)
    assert (export["jurisdiction"], export["language"]) == ("MX", "es") and "LFPDPPP" in export["summary"]


def test_verify_finds_nothing_after_erasure_and_finds_planted_residue(
    platform: Platform, broker: str, redis: redis_lib.Redis
) -> None:
    raw, ck = _customer("erase")
    _consent(platform, raw, channels=["in_app"])
    _ingest(platform, raw, _profile(), _purchase())
    wait_until(lambda: redis.exists(keys.customer(keys.NBA, ck, "permissions")))
    publish(broker, topics.SCORES, [new_event(scores(), customer_key=ck, source="scoring")])
    wait_until(lambda: [o for o in _offered(platform, ck) if o["status"] == "delivered"])
    wait_until(lambda: redis.exists(keys.customer(keys.GATEWAY, ck, "scope")))
    before = privacy.verify(ck, platform.clients, redis)
    assert {f.where for f in before.residue} >= {"ingest-openfinance", "feature-store", "next-best-action", "campaigns"}

    erased = platform.gateway.post("/v1/data-subject/erasure", json={"customer_id": raw}, headers=platform.admin())
    assert erased.status_code == 202, erased.text
    report = wait_until(lambda: (r := privacy.verify(ck, platform.clients, redis)).clean and r, timeout=20)
    assert any(f.key.startswith("gateway:dsr:") for f in report.retained)  # the record that it was done
    # The logs are listed, not counted as residue: the consent's latest event, the account events.
    logged = privacy.verify(ck, platform.clients, redis, bootstrap=broker)
    assert logged.clean and logged.on_log.get(topics.CONSENT_EVENTS, 0) >= 1

    # A service that "forgets" to erase one key, and another that keeps the key inside a value.
    redis.hset(keys.customer(keys.CAMPAIGNS, ck, "holdings"), "credit_card", "1")
    redis.zadd("campaigns:schedule:stale", {f"{ck}|of_x|2": 1.0})
    planted = privacy.verify(ck, platform.clients, redis)
    found = {(f.where, f.key) for f in planted.residue}
    assert ("campaigns", "holdings") in found  # the service's own export shows it
    assert ("redis", keys.customer(keys.CAMPAIGNS, ck, "holdings")) in found
    assert ("redis", "campaigns:schedule:stale") in found
    assert privacy.main(["verify", ck, "--redis", _redis_url(redis), *_service_args(platform)]) == 1
    redis.delete(keys.customer(keys.CAMPAIGNS, ck, "holdings"), "campaigns:schedule:stale")


def _redis_url(client: redis_lib.Redis) -> str:
    kwargs = client.connection_pool.connection_kwargs
    return f"redis://{kwargs.get('host', '127.0.0.1')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"


def _service_args(platform: Platform) -> list[str]:
    return [arg for name, url in platform.urls.items() for arg in ("--service", f"{name}={url}")]
