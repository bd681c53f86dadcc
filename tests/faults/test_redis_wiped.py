"""Drill: Redis killed and restarted EMPTY under ingest, feature-store, next-best-action and campaigns
(real processes, a real Tansu broker, a real redis-server). Nothing is repaired by hand.

Asserted, with a ledger printed for `pytest -s`:
* after the wipe every service's readiness fails, and once Redis is back (empty) each one notices by its
  epoch marker, rebuilds its views (503 meanwhile) and turns ready again;
* consented customers' events are accepted again (the consent view was rebuilt, not `no_consent`);
* features are rebuilt with exact per-customer sums, and a source event re-sent after the wipe (the
  dedupe window went with Redis) is not counted twice;
* the erased customer does not come back (no features, tombstones restored, events refused);
* the declined customer is still not offered the declined product (cooldown rebuilt from outcomes.v1);
* every contacting service's marketing permissions are rebuilt (next-best-action, campaigns).
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
import redis as redis_lib

from prometeo import keys
from prometeo.contracts import Channel, ProductCode, decode, new_event, topics, utcnow
from prometeo.contracts.events import OfferDecidedV1, OutcomeKind, OutcomeRecordedV1
from prometeo.identity import customer_key
from prometeo.redis_text import text
from prometeo.settings import DEV_PSEUDONYM_KEY
from tests.app_helpers import caller_auth
from tests.bus_helpers import publish, read_topic, scaled, wait_until
from tests.faults.redis_fixtures import Service, WipeableRedis, redis_services, wipeable_redis
from tests.unit.next_best_action.factories import scores

__all__ = ["redis_services", "wipeable_redis"]  # fixtures used by name

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.timeout(90)]
INGEST_AUTH = caller_auth("ingest-openfinance")

CONSENTED = 4
EVENTS_EACH = 5
CC = ProductCode.CREDIT_CARD


def _consent(customer_id: str) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "consent_id": f"urn:wiped:{customer_id}",
        "institution": "wiped-bank",
        "scopes": ["accounts", "balances", "transactions", "customers"],
        "marketing_channels": ["in_app"],
    }


def _txn(customer_id: str, sid: str, cents: int) -> dict[str, Any]:
    now = utcnow().isoformat()
    return {
        "customer_id": customer_id,
        "source_event_id": sid,
        "type": "transaction.booked",
        "version": 1,
        "occurred_at": now,
        "source": "core-banking",
        "payload": {
            "account_id": "a1",
            "transaction_id": sid,
            "direction": "debit",
            "amount": str(Decimal(cents) / 100),
            "booked_at": now,
        },
    }


def _ingest(ingest: Service, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    r = httpx.post(f"{ingest.url}/v1/events:batch", json={"events": items}, timeout=scaled(35), auth=INGEST_AUTH)
    assert r.status_code == 200, r.text
    items_out: list[dict[str, Any]] = r.json()["items"]
    return items_out


def _features(r: redis_lib.Redis, ck: str) -> tuple[int, int]:
    """(transactions counted, outflow in cents) summed over the customer's day buckets."""
    count = outflow = 0
    for key in r.scan_iter(match=keys.customer(keys.FEATURES, ck, "days:*")):
        for field, value in r.hgetall(key).items():
            metric = text(field).split("|", 1)[1]
            if metric == "count":
                count += int(value)
            elif metric == "outflow":
                outflow += int(value)
    return count, outflow


def _rebuilds(svc: Service) -> int:
    """How many times the service rebuilt its views (its `views` readiness detail says)."""
    status, checks = svc.readyz()
    assert status == 200, checks
    found = re.search(r"rebuilt (\d+)x", str(checks["views"]["detail"]))
    return int(found.group(1)) if found else 0


def _families(r: redis_lib.Redis) -> Counter[str]:
    """Keys per family (`service:entity`, customer keys by their part)."""
    found: Counter[str] = Counter()
    for raw in r.scan_iter(count=1_000):
        parts = text(raw).split(":")
        found[":".join(parts[:2] if parts[1] != "customer" else [parts[0], parts[1], parts[3].split(":")[0]])] += 1
    return found


def _decisions(broker: str, ck: str, count: int) -> list[OfferDecidedV1]:
    records = read_topic(broker, topics.OFFERS, min_count=count, match=lambda rec: rec.key == ck.encode())
    out = []
    for rec in records:
        _, payload = decode(rec.value)
        assert isinstance(payload, OfferDecidedV1)
        out.append(payload)
    return out


def test_wiped_redis_is_detected_and_rebuilt_from_the_log(
    broker: str,
    wipeable_redis: WipeableRedis,
    redis_services: dict[str, Service],
    unique: Callable[[str], str],
) -> None:
    names = ("ingest-openfinance", "feature-store", "next-best-action", "campaigns")
    ingest, features, nba, campaigns = (redis_services[n] for n in names)
    r = redis_lib.Redis.from_url(wipeable_redis.url)
    rng = random.Random(11)
    ledger: Counter[str] = Counter()
    consented = [unique("wiped-c") for _ in range(CONSENTED)]
    erased, declined = unique("wiped-e"), unique("wiped-d")
    ck = {cid: customer_key(cid, DEV_PSEUDONYM_KEY) for cid in [*consented, erased, declined]}
    expected: dict[str, list[int]] = {cid: [0, 0] for cid in [*consented, declined]}

    # -- before the wipe ------------------------------------------------------------------------------
    for cid in ck:
        assert (
            httpx.post(
                f"{ingest.url}/v1/consents", json=_consent(cid), timeout=scaled(35), auth=INGEST_AUTH
            ).status_code
            == 201
        )
    sent: dict[str, list[dict[str, Any]]] = {}
    for cid in ck:
        sent[cid] = [_txn(cid, unique("sid"), rng.randint(100, 99_999)) for _ in range(EVENTS_EACH)]
        for item in _ingest(ingest, sent[cid]):
            ledger[f"before: {item['status']}"] += 1
        if cid in expected:
            expected[cid] = [EVENTS_EACH, sum(int(Decimal(i["payload"]["amount"]) * 100) for i in sent[cid])]
    ledger["before: ingested"] = sum(len(v) for v in sent.values())

    def features_exact() -> bool:
        return all(_features(r, ck[cid]) == tuple(want) for cid, want in expected.items())

    wait_until(features_exact, timeout=30, interval=0.2)
    wait_until(lambda: _features(r, ck[erased])[0] == EVENTS_EACH, timeout=20, interval=0.2)
    erase = httpx.post(
        f"{ingest.url}/v1/customers:erase", json={"customer_id": erased}, timeout=scaled(35), auth=INGEST_AUTH
    )
    assert erase.status_code == 202, erase.text
    wait_until(lambda: r.exists(keys.entity(keys.FEATURES, "erased", ck[erased])), timeout=20, interval=0.2)
    assert _features(r, ck[erased]) == (0, 0)
    decline = OutcomeRecordedV1(offer_id="of_before_wipe", product=CC, outcome=OutcomeKind.DECLINED)
    publish(broker, topics.OUTCOMES, [new_event(decline, customer_key=ck[declined], source="tests")])
    declines = keys.customer(keys.NBA, ck[declined], "declines")
    wait_until(lambda: r.hexists(declines, CC.value), timeout=20, interval=0.2)

    def permissions_held() -> int:
        return sum(
            bool(r.hlen(keys.customer(ns, ck[cid], "permissions")))
            for ns in (keys.NBA, keys.CAMPAIGNS)
            for cid in [*consented, declined]
        )

    wait_until(lambda: permissions_held() == 2 * (CONSENTED + 1), timeout=20, interval=0.2)
    ledger["before: redis keys"] = int(r.dbsize())
    families_before = _families(r)
    on_topic = read_topic(
        broker,
        topics.ACCOUNT_EVENTS,
        min_count=ledger["before: ingested"],
        match=lambda rec: rec.key in {c.encode() for c in ck.values()},
    )
    ledger["before: on account-events.v1"] = len({json.loads(rec.value)["event_id"] for rec in on_topic})

    # -- the wipe -------------------------------------------------------------------------------------
    services = (ingest, features, nba, campaigns)
    rebuilds_before = {svc.name: _rebuilds(svc) for svc in services}
    wipeable_redis.kill()
    unready = {svc.name: svc.readyz()[0] for svc in services}
    assert all(status == 503 for status in unready.values()), unready
    wiped_at = time.monotonic()
    wipeable_redis.start()  # empty, on the same port
    views_failed: dict[str, str] = {}
    ready_after: dict[str, float] = {}

    def all_ready() -> bool:
        for svc in services:
            if svc.name in ready_after:
                continue
            status, checks = svc.readyz()
            if status == 200:
                ready_after[svc.name] = round(time.monotonic() - wiped_at, 2)
            elif checks.get("redis", {}).get("ok") and not checks.get("views", {}).get("ok", True):
                views_failed.setdefault(svc.name, str(checks["views"]["detail"]))
        return len(ready_after) == len(services)

    wait_until(all_ready, timeout=45, interval=0.02)
    # Each service noticed the empty Redis by its own marker and rebuilt before turning ready again (a
    # rebuild too quick for the probes to see its 503 still counts here).
    rebuilt = {svc.name: _rebuilds(svc) - rebuilds_before[svc.name] for svc in services}
    assert rebuilt == dict.fromkeys(names, 1), rebuilt
    ledger["after wipe: services that rebuilt their views"] = sum(rebuilt.values())
    ledger["after rebuild: redis keys"] = int(r.dbsize())
    ledger["after rebuild: permission views (nba + campaigns)"] = permissions_held()
    assert ledger["after rebuild: permission views (nba + campaigns)"] == 2 * (CONSENTED + 1)
    families_rebuilt = _families(r)

    # -- after: accepted again, exact sums, no double count -------------------------------------------
    resent = _ingest(ingest, sent[consented[0]])  # the dedupe window went with Redis
    ledger.update(f"after: re-sent {item['status']}" for item in resent)
    fresh = {cid: _txn(cid, unique("sid"), rng.randint(100, 99_999)) for cid in consented}
    answers = _ingest(ingest, list(fresh.values()))
    ledger.update(f"after: new {item['status']}" for item in answers)
    assert [a["status"] for a in answers] == ["accepted"] * CONSENTED, answers
    for cid, item in fresh.items():
        expected[cid][0] += 1
        expected[cid][1] += int(Decimal(item["payload"]["amount"]) * 100)
    wait_until(features_exact, timeout=30, interval=0.2)
    got = {cid: _features(r, ck[cid]) for cid in expected}
    ledger["after: customers with exact sums"] = sum(got[c] == tuple(w) for c, w in expected.items())
    ledger["after: events counted twice"] = sum(max(0, got[c][0] - w[0]) for c, w in expected.items())
    ledger["after: acknowledged events of kept customers"] = sum(w[0] for w in expected.values())
    ledger["after: acknowledged events lost"] = sum(max(0, w[0] - got[c][0]) for c, w in expected.items())

    # -- the erased customer stays erased -------------------------------------------------------------
    [refused] = _ingest(ingest, [_txn(erased, unique("sid"), 500)])
    ledger[f"after: erased customer's event {refused.get('reason') or refused['status']}"] += 1
    assert refused["status"] != "accepted"
    assert r.exists(keys.entity(keys.FEATURES, "erased", ck[erased]))
    assert r.exists(keys.entity(keys.INGEST, "erased", ck[erased]))
    assert not r.hlen(keys.customer(keys.INGEST, ck[erased], "consents"))
    resurrected = _features(r, ck[erased]) != (0, 0) or bool(
        r.exists(keys.customer(keys.FEATURES, ck[erased], "profile"))
    )
    ledger["after: erased customers resurrected"] = int(resurrected)

    # -- the declined customer is still not offered the declined product -----------------------------
    assert r.hexists(declines, CC.value), "the decline cooldown must be rebuilt from outcomes.v1"
    publish(broker, topics.SCORES, [new_event(scores(), customer_key=ck[declined], source="tests")])
    [decision] = _decisions(broker, ck[declined], 1)
    offered = [o.product for o in decision.offers]
    ledger["after: declined product offered"] = int(CC in offered)
    assert decision.blocked.get(CC.value) == ["decline_cooldown"], decision.blocked
    assert offered and all(o.channel is Channel.IN_APP for o in decision.offers), "permissions rebuilt too"

    print("\nredis-wiped drill ledger")
    for name, value in sorted(ledger.items()):
        print(f"  {name:<45} {value}")
    print("  key families (before the wipe → rebuilt, before any new traffic):")
    for family in sorted(set(families_before) | set(families_rebuilt)):
        print(f"    {family:<30} {families_before[family]:>4} → {families_rebuilt[family]}")
    for name in names:
        seen = views_failed.get(name, "rebuilt between two probes")
        print(f"  {name:<20} 503 with Redis down; ready again {ready_after[name]} s after the empty restart; {seen}")

    assert ledger["after: customers with exact sums"] == len(expected)
    assert ledger["after: events counted twice"] == 0
    assert ledger["after: acknowledged events lost"] == 0
    assert ledger["after: erased customers resurrected"] == 0
    assert ledger["after: declined product offered"] == 0
    assert ledger["before: accepted"] == ledger["before: ingested"] == ledger["before: on account-events.v1"]
    r.close()
