"""Consent-gated ingestion against the real broker and Redis."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest_openfinance.main import app
from ingest_openfinance.settings import get_settings
from prometeo import clock
from prometeo.contracts import topics, utcnow
from prometeo.identity import customer_key
from prometeo.settings import DEV_PSEUDONYM_KEY
from tests.app_helpers import service_client
from tests.bus_helpers import read_topic, wait_until
from tests.instants import AT_03_SAO_PAULO, AT_15_SAO_PAULO, SANTIAGO, SANTIAGO_FALLS_BACK

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client(broker: str, redis_url: str) -> Iterator[TestClient]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAFKA_BOOTSTRAP_SERVERS", broker)
        mp.setenv("REDIS_URL", redis_url)
        mp.setenv("PROMETEO_CONSUMER_SESSION_TIMEOUT_MS", "1500")
        mp.setenv("PROMETEO_INGEST_OPENFINANCE_GROUP_ID", "ingest-tests")
        mp.setenv("PROMETEO_INGEST_OPENFINANCE_EXPIRY_SWEEP_INTERVAL_S", "0.5")
        get_settings.cache_clear()
        with service_client(app) as c:
            wait_until(lambda: c.get("/readyz").status_code == 200, timeout=30)
            yield c
        get_settings.cache_clear()


def _consent(customer_id: str, scopes: list[str] | None = None, **extra: object) -> dict:
    return {
        "customer_id": customer_id,
        "consent_id": f"urn:test:{customer_id}",
        "institution": "test-bank",
        "scopes": scopes or ["accounts", "balances", "transactions", "customers"],
        **extra,
    }


def _txn(customer_id: str, sid: str, amount: str = "10.00", **payload: object) -> dict:
    return {
        "customer_id": customer_id,
        "source_event_id": sid,
        "type": "transaction.booked",
        "version": 1,
        "occurred_at": utcnow().isoformat(),
        "source": "core-banking",
        "payload": {
            "account_id": "a1",
            "transaction_id": sid,
            "direction": "debit",
            "amount": amount,
            "booked_at": utcnow().isoformat(),
            **payload,
        },
    }


def _batch(client: TestClient, items: list) -> dict:
    r = client.post("/v1/events:batch", json={"events": items})
    assert r.status_code == 200, r.text
    return r.json()


def test_consented_events_are_published_pseudonymised(client: TestClient, broker: str, unique: Callable) -> None:
    cpf = "123.456.789-09"
    cid = unique("cpf") + cpf
    assert client.post("/v1/consents", json=_consent(cid)).status_code == 201
    body = _batch(client, [_txn(cid, unique("s"))])
    assert body["counts"]["accepted"] == 1
    ck = customer_key(cid, DEV_PSEUDONYM_KEY)
    [record] = read_topic(broker, topics.ACCOUNT_EVENTS, match=lambda r: r.key == ck.encode())
    assert cpf not in record.value.decode() and cid not in record.value.decode()
    assert json.loads(record.value)["customer_key"] == ck


def test_refusals_name_their_reason(client: TestClient, unique: Callable) -> None:
    nobody, narrow, expired = unique("c"), unique("c"), unique("c")
    client.post("/v1/consents", json=_consent(narrow, scopes=["accounts"]))
    client.post("/v1/consents", json=_consent(expired, expires_at=(utcnow() - timedelta(days=1)).isoformat()))
    body = _batch(client, [_txn(nobody, unique("s")), _txn(narrow, unique("s")), _txn(expired, unique("s"))])
    assert [i["reason"] for i in body["items"]] == ["no_consent", "scope_not_granted", "consent_expired"]
    assert body["counts"]["refused_no_consent"] == 3


def test_duplicates_are_accepted_once(client: TestClient, unique: Callable) -> None:
    cid, sid = unique("c"), unique("s")
    client.post("/v1/consents", json=_consent(cid))
    item = _txn(cid, sid)
    first = _batch(client, [item, item])
    again = _batch(client, [item])
    assert [i["status"] for i in first["items"]] == ["accepted", "duplicate"]
    assert again["items"][0]["status"] == "duplicate"
    assert again["items"][0]["event_id"] == first["items"][0]["event_id"]


def test_one_id_twice_with_different_content_is_a_conflict(client: TestClient, unique: Callable) -> None:
    cid, sid = unique("c"), unique("s")
    client.post("/v1/consents", json=_consent(cid))
    answer = _batch(client, [_txn(cid, sid, "10.00"), _txn(cid, sid, "99.00")])
    assert [i["status"] for i in answer["items"]] == ["conflict", "conflict"]
    assert answer["counts"]["conflict"] == 2 and "different content" in answer["items"][0]["reason"]
    # Neither version was claimed: the right one, sent alone, is accepted.
    assert _batch(client, [_txn(cid, sid, "10.00")])["items"][0]["status"] == "accepted"


def test_revocation_mid_stream_refuses_later_events_and_requests_erasure(
    client: TestClient, broker: str, unique: Callable
) -> None:
    cid = unique("c")
    consent = _consent(cid)
    client.post("/v1/consents", json=consent)
    assert _batch(client, [_txn(cid, unique("s"))])["counts"]["accepted"] == 1
    r = client.post(
        f"/v1/consents/{consent['consent_id']}/status",
        json={"status": "revoked", "reason": "CUSTOMER_MANUALLY_REVOKED"},
    )
    assert r.status_code == 200 and r.json()["erasure_requested"] is True
    assert _batch(client, [_txn(cid, unique("s"))])["items"][0]["status"] == "refused_no_consent"
    ck = customer_key(cid, DEV_PSEUDONYM_KEY)
    assert read_topic(broker, topics.CUSTOMER_ERASURE, match=lambda r: r.key == ck.encode())


@pytest.mark.parametrize(
    "at",
    [AT_03_SAO_PAULO, AT_15_SAO_PAULO, SANTIAGO_FALLS_BACK - timedelta(minutes=30)],
    ids=["03h-sao-paulo", "15h-sao-paulo", "santiago-dst-change"],
)
def test_expiry_is_enforced_by_time(client: TestClient, broker: str, unique: Callable, at: datetime) -> None:
    cid = unique("c")
    ck = customer_key(cid, DEV_PSEUDONYM_KEY)
    with clock.pinned(at):
        # Written in Santiago's local time. Across its DST change (23:30 at −03 → 00:00 at −04) the wall
        # clock moves 30 min while 90 pass: expiry is by instant, so the consent lasts the 90.
        expires = (at + timedelta(minutes=90)).astimezone(SANTIAGO)
        assert client.post("/v1/consents", json=_consent(cid, expires_at=expires.isoformat())).status_code < 300
        assert _batch(client, [_txn(cid, unique("s"))])["counts"]["accepted"] == 1
        clock.advance(timedelta(minutes=89))
        assert _batch(client, [_txn(cid, unique("s"))])["counts"]["accepted"] == 1  # still in force
        clock.advance(timedelta(minutes=2))
        assert read_topic(broker, topics.CUSTOMER_ERASURE, timeout=15, match=lambda r: r.key == ck.encode())
        assert _batch(client, [_txn(cid, unique("s"))])["items"][0]["status"] == "refused_no_consent"


def test_invalid_items_get_field_paths_and_the_rest_goes_through(client: TestClient, unique: Callable) -> None:
    cid = unique("c")
    client.post("/v1/consents", json=_consent(cid))
    bad_amount = _txn(cid, unique("s"), amount="-3")
    unknown = {**_txn(cid, unique("s")), "type": "transaction.teleported"}
    pii = _txn(cid, unique("s"), name="Ana Silva")
    body = _batch(client, [bad_amount, _txn(cid, unique("s")), unknown, pii, "not an object"])
    statuses = [i["status"] for i in body["items"]]
    assert statuses == ["invalid", "accepted", "invalid", "invalid", "invalid"]
    assert "amount" in body["items"][0]["reason"] and "unknown event type" in body["items"][2]["reason"]


@pytest.mark.parametrize(
    ("content", "headers", "status"),
    [
        (b"{broken", {"content-type": "application/json"}, 400),
        (b"<xml/>", {"content-type": "application/xml"}, 415),
        (b"[" + b"1," * 6_000_000 + b"1]", {"content-type": "application/json"}, 413),
        (b'{"events": 3}', {"content-type": "application/json"}, 422),
    ],
)
def test_http_errors_are_problem_details(client: TestClient, content: bytes, headers: dict, status: int) -> None:
    r = client.post("/v1/events:batch", content=content, headers=headers)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json" and r.json()["status"] == status


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["ok", "dup", "no_consent", "invalid"]), min_size=1, max_size=25))
def test_counts_always_add_up_to_received(client: TestClient, kinds: list[str]) -> None:
    import uuid

    cid = f"prop-{uuid.uuid4().hex[:10]}"
    client.post("/v1/consents", json=_consent(cid))
    dup = _txn(cid, uuid.uuid4().hex)  # one content: repeats are duplicates, not conflicts
    items = []
    for kind in kinds:
        if kind == "ok":
            items.append(_txn(cid, uuid.uuid4().hex))
        elif kind == "dup":
            items.append(dup)
        elif kind == "no_consent":
            items.append(_txn(f"nobody-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex))
        else:
            items.append({"customer_id": cid})
    body = _batch(client, items)
    assert sum(body["counts"].values()) == body["received"] == len(items) == len(body["items"])
    assert body["counts"]["refused_no_consent"] == kinds.count("no_consent")
    assert body["counts"]["invalid"] == kinds.count("invalid")
    assert body["counts"]["accepted"] == kinds.count("ok") + min(1, kinds.count("dup"))


def test_erasure_on_request_takes_the_id_in_the_body(client: TestClient, broker: str, unique: Callable) -> None:
    cid = unique("c")
    client.post("/v1/consents", json=_consent(cid))
    r = client.post("/v1/customers:erase", json={"customer_id": cid})
    assert r.status_code == 202
    ck = customer_key(cid, DEV_PSEUDONYM_KEY)
    assert r.json()["customer_key"] == ck
    assert read_topic(broker, topics.CUSTOMER_ERASURE, match=lambda rec: rec.key == ck.encode())
    assert _batch(client, [_txn(cid, unique("s"))])["items"][0]["reason"] == "no_consent"
