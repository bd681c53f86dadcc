"""Source standards end to end against the real broker and Redis: Open Finance Brasil fixtures (../shared),
UK Open Banking and Belvo examples (tests/fixtures), the consent registry, data-subject export, and the
privacy scan of produced messages and captured logs."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ingest_openfinance.main import app
from ingest_openfinance.settings import get_settings
from prometeo.contracts import topics, utcnow
from prometeo.contracts.envelope import customer_part
from prometeo.identity import customer_key
from prometeo.settings import DEV_PSEUDONYM_KEY
from tests.app_helpers import service_client
from tests.bus_helpers import read_topic, wait_until
from tests.unit.ingest_openfinance.test_brasil_fixtures import BAD_RECORDS, BROKEN_JSON, FOLDERS, NOT_A_RESPONSE, _files

pytestmark = pytest.mark.integration

LOCAL = Path(__file__).resolve().parents[2] / "fixtures" / "ingest_openfinance"
ALL_SCOPES = ["accounts", "balances", "transactions", "credit_cards", "loans", "investments", "customers"]


@pytest.fixture(scope="module")
def client(broker: str, redis_url: str) -> Iterator[TestClient]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAFKA_BOOTSTRAP_SERVERS", broker)
        mp.setenv("REDIS_URL", redis_url)
        mp.setenv("PROMETEO_ENV", "test")
        mp.setenv("PROMETEO_CONSUMER_SESSION_TIMEOUT_MS", "1500")
        mp.setenv("PROMETEO_INGEST_OPENFINANCE_GROUP_ID", f"ingest-sources-{uuid.uuid4().hex[:8]}")
        get_settings.cache_clear()
        with service_client(app) as c:
            wait_until(lambda: c.get("/readyz").status_code == 200, timeout=30)
            yield c
        get_settings.cache_clear()


@pytest.fixture(scope="module")
def brasil_dir(shared_dir: Path) -> Path:
    return shared_dir / "fixtures" / "openfinance-brasil"


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _grant(client: TestClient, customer_id: str, scopes: list[str] | None = None) -> str:
    consent_id = f"urn:test:{uuid.uuid4().hex}"
    r = client.post(
        "/v1/consents",
        json={
            "customer_id": customer_id,
            "consent_id": consent_id,
            "institution": "test",
            "scopes": scopes or ALL_SCOPES,
        },
    )
    assert r.status_code == 201, r.text
    return consent_id


def _post(client: TestClient, url: str, content: bytes, **headers: str) -> Any:
    return client.post(url, content=content, headers={"content-type": "application/json", **headers})


def _assert_counts(body: dict) -> None:
    assert sum(body["counts"].values()) == body["received"] == len(body["items"])


def _messages_for(broker: str, ck: str, min_count: int) -> list[str]:
    records = read_topic(broker, topics.ACCOUNT_EVENTS, min_count=min_count, match=lambda r: r.key == ck.encode())
    return [r.value.decode() for r in records]


def _brasil_secrets(root: Path, cpf: str) -> set[str]:
    """Identifying values present in the fixtures: they must appear on no topic and in no log line."""
    secrets = {cpf}
    for path in root.rglob("*.json"):
        try:
            document = _json(path)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        data = document.get("data") if isinstance(document, dict) else None
        for record in data if isinstance(data, list) else [data]:
            if not isinstance(record, dict):
                continue
            for key in (
                "partieCnpjCpf",
                "chargeIdentificator",
                "civilName",
                "socialName",
                "companyName",
                "tradeName",
                "cnpjNumber",
                "identification",
            ):
                value = record.get(key)
                if isinstance(value, str) and len(value) >= 6:
                    secrets.add(value)
    return secrets


def test_every_brasil_fixture_through_the_api(
    client: TestClient, broker: str, brasil_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Valid records are accepted; malformed documents and records get clear errors, the rest goes through;
    no CPF, counterparty document or merchant free text reaches the topic or a log line."""
    caplog.set_level(logging.DEBUG, logger="ingest_openfinance")
    caplog.set_level(logging.INFO)
    cpf = _json(brasil_dir / "consents/post-consents/post-consents-01.1.json")["data"]["loggedUser"]["document"][
        "identification"
    ]
    customer = f"{cpf}{uuid.uuid4().hex[:6]}"  # unique per run, still carrying the real CPF digits
    _grant(client, customer)
    institution = f"bank-{uuid.uuid4().hex[:8]}"
    accepted = 0
    for path, resource in [(p, r) for folder, r in FOLDERS.items() for p in _files(brasil_dir, folder)]:
        r = _post(
            client,
            f"/v1/openfinance/brasil/{resource.value}",
            path.read_bytes(),
            **{"x-customer-id": customer, "x-institution": institution, "x-account-id": path.stem},
        )
        if path.name in BROKEN_JSON:
            assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
            assert "line" in r.json()["detail"]
            continue
        if path.name in NOT_A_RESPONSE:
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "data"
            continue
        assert r.status_code == 200, (path.name, r.text)
        body = r.json()
        _assert_counts(body)
        statuses = {i["status"] for i in body["items"]}
        if path.name in BAD_RECORDS:
            assert body["counts"]["invalid"] >= 1, body["counts"]
            assert all(BAD_RECORDS[path.name] in i["reason"] for i in body["items"] if i["status"] == "invalid")
        else:
            # Conflicts (one id, two contents in a page) and unsupported records (overdraft lines) name why.
            assert statuses <= {"accepted", "duplicate", "conflict", "unsupported"}, (path.name, body["items"][:3])
        assert all(i["reason"] for i in body["items"] if i["status"] in ("conflict", "unsupported", "invalid"))
        accepted += body["counts"]["accepted"]
    assert accepted > 300

    ck = customer_key(customer, DEV_PSEUDONYM_KEY)
    messages = _messages_for(broker, ck, accepted)
    assert len(messages) >= accepted
    types = {json.loads(m)["type"] for m in messages}
    assert {"transaction.booked", "balance.snapshot", "product.held", "account.opened"} <= types
    secrets = _brasil_secrets(brasil_dir, cpf) | {customer}
    assert len(secrets) > 30 and len(caplog.records) > 100  # the scan below is not vacuous
    logged = "\n".join(r.getMessage() + " " + json.dumps(r.__dict__, default=str) for r in caplog.records)
    for secret in secrets:
        assert all(secret not in m for m in messages), "identifying value on account-events.v1"
        assert secret not in logged, "identifying value in a log line"


def test_brasil_pages_re_sent_are_duplicates(client: TestClient, brasil_dir: Path) -> None:
    customer, inst = f"c-{uuid.uuid4().hex[:8]}", f"bank-{uuid.uuid4().hex[:8]}"
    _grant(client, customer)
    page = brasil_dir / "accounts/get-accounts-accountid-transactions/get-accounts-accountId-transactions-18.1.json"
    headers = {"x-customer-id": customer, "x-institution": inst, "x-account-id": "acc-1"}
    first = _post(client, "/v1/openfinance/brasil/account-transactions", page.read_bytes(), **headers).json()
    again = _post(client, "/v1/openfinance/brasil/account-transactions", page.read_bytes(), **headers).json()
    assert first["counts"]["accepted"] == 10 and again["counts"]["duplicate"] == 10
    assert [i["event_id"] for i in first["items"]] == [i["event_id"] for i in again["items"]]


def test_brasil_consent_registry_maps_revocation_to_erasure(client: TestClient, broker: str, brasil_dir: Path) -> None:
    """A consent authorised, then reported REJECTED + CUSTOMER_MANUALLY_REVOKED: later data is refused and
    erasure is requested."""
    revoked = _json(brasil_dir / "consents/get-consents-consentid/get-consents-consentId-01.2.json")
    consent_id = f"{revoked['data']['consentId']}-{uuid.uuid4().hex[:6]}"
    revoked["data"]["consentId"] = consent_id
    authorised = json.loads(json.dumps(revoked))
    authorised["data"].update(status="AUTHORISED", expirationDateTime=(utcnow() + timedelta(days=90)).isoformat())
    del authorised["data"]["rejection"]
    request = _json(brasil_dir / "consents/post-consents/post-consents-01.1.json")
    customer = f"{request['data']['loggedUser']['document']['identification']}{uuid.uuid4().hex[:4]}"
    headers = {"content-type": "application/json", "x-customer-id": customer, "x-institution": "bb"}

    r = client.post("/v1/openfinance/brasil/consents", json=authorised, headers=headers)
    assert r.status_code == 200 and r.json()["status"] == "authorised", r.text
    extended = (utcnow() + timedelta(days=365)).replace(microsecond=0)
    authorised["data"]["expirationDateTime"] = extended.isoformat()
    assert client.post("/v1/openfinance/brasil/consents", json=authorised, headers=headers).status_code == 200
    [held] = client.post("/v1/customers:export", json={"customer_id": customer}).json()["consents"]
    assert held["consent_id"] == consent_id and held["expires_at"].startswith(extended.isoformat()[:19])
    accounts = (brasil_dir / "accounts/get-accounts/get-accounts-01.1.json").read_bytes()
    res_headers = {"x-customer-id": customer, "x-institution": f"bb-{uuid.uuid4().hex[:6]}"}
    assert _post(client, "/v1/openfinance/brasil/accounts", accounts, **res_headers).json()["counts"]["accepted"] == 2

    r = client.post("/v1/openfinance/brasil/consents", json=revoked, headers=headers)
    assert r.status_code == 200 and r.json()["status"] == "revoked" and r.json()["erasure_requested"] is True
    ck = customer_key(customer, DEV_PSEUDONYM_KEY)
    assert read_topic(broker, topics.CUSTOMER_ERASURE, match=lambda rec: rec.key == ck.encode())
    res_headers["x-institution"] = f"bb-{uuid.uuid4().hex[:6]}"
    body = _post(client, "/v1/openfinance/brasil/accounts", accounts, **res_headers).json()
    assert body["counts"]["refused_no_consent"] == 2


def test_uk_scenario(client: TestClient, broker: str) -> None:
    customer, inst = f"uk-{uuid.uuid4().hex[:8]}", f"alpha-{uuid.uuid4().hex[:6]}"
    headers = {"x-customer-id": customer, "x-institution": inst}
    consent = _json(LOCAL / "uk/account-access-consent.json")
    consent["Data"]["ConsentId"] += uuid.uuid4().hex[:6]
    r = client.post("/v1/openbanking/uk/account-access-consents", json=consent, headers=headers)
    assert r.status_code == 200 and r.json()["status"] == "authorised", r.text

    results = {}
    for resource, name in [
        ("accounts", "accounts"),
        ("balances", "balances"),
        ("transactions", "transactions"),
        ("transactions", "malformed-transactions"),
    ]:
        body = _post(client, f"/v1/openbanking/uk/{resource}", (LOCAL / f"uk/{name}.json").read_bytes(), **headers)
        assert body.status_code == 200, body.text
        results[name] = body.json()
        _assert_counts(results[name])
    assert results["accounts"]["counts"]["accepted"] == 3 and results["balances"]["counts"]["accepted"] == 2
    assert results["transactions"]["counts"]["accepted"] == 4
    assert [i["status"] for i in results["malformed-transactions"]["items"]] == [
        "accepted",
        "invalid",
        "invalid",
        "invalid",
    ]
    again = _post(client, "/v1/openbanking/uk/transactions", (LOCAL / "uk/transactions.json").read_bytes(), **headers)
    assert again.json()["counts"]["duplicate"] == 4

    ck = customer_key(customer, DEV_PSEUDONYM_KEY)
    messages = _messages_for(broker, ck, 10)
    assert not any(s in m for m in messages for s in ("Kevin", "Tesco", "80200110203345", customer))

    cancelled = _json(LOCAL / "uk/account-access-consent-v4-cancelled.json")
    cancelled["Data"]["ConsentId"] = consent["Data"]["ConsentId"]
    r = client.post("/v1/openbanking/uk/account-access-consents", json=cancelled, headers=headers)
    assert r.json()["status"] == "revoked" and r.json()["erasure_requested"] is True


def test_belvo_webhooks(client: TestClient, broker: str) -> None:
    def load(name: str, external_id: str) -> bytes:
        document = _json(LOCAL / f"belvo/{name}.json")
        document.update(external_id=external_id, link_id=f"{document['link_id']}-{external_id}")
        return json.dumps(document).encode()

    customer = f"CURP-{uuid.uuid4().hex[:10]}"
    _grant(client, customer, ["transactions"])
    first = _post(client, "/v1/webhooks/belvo", load("new-transactions-mx", customer)).json()
    assert first["counts"]["accepted"] == 3
    retry = _post(client, "/v1/webhooks/belvo", load("new-transactions-mx", customer)).json()
    assert retry["counts"]["duplicate"] == 3
    updated = _post(client, "/v1/webhooks/belvo", load("transactions-updated-co", customer)).json()
    deleted = _post(client, "/v1/webhooks/belvo", load("transactions-deleted-cl", customer)).json()
    assert updated["counts"]["accepted"] == 1 and deleted["counts"]["accepted"] == 2
    malformed = _post(client, "/v1/webhooks/belvo", load("malformed-transactions-mx", customer)).json()
    _assert_counts(malformed)
    assert [i["status"] for i in malformed["items"]] == ["accepted", "invalid", "invalid", "invalid"]
    other = _post(client, "/v1/webhooks/belvo", load("accounts-webhook", customer))
    assert other.status_code == 200 and other.json()["received"] == 0

    ck = customer_key(customer, DEV_PSEUDONYM_KEY)
    messages = _messages_for(broker, ck, 7)
    assert {json.loads(m)["type"] for m in messages} == {
        "transaction.booked",
        "transaction.pending",  # the PENDING one, held apart until it settles
        "transaction.updated",
        "transaction.deleted",
    }
    assert not any(s in m for m in messages for s in ("Mariana", "OXXO", "4057068115181", customer))


def test_data_subject_export_then_erasure(client: TestClient) -> None:
    customer = f"ds-{uuid.uuid4().hex[:8]}"
    consent_id = _grant(client, customer, ["accounts"])
    r = client.post("/v1/customers:export", json={"customer_id": customer})
    assert r.status_code == 200
    body = r.json()
    assert body["customer_key"] == customer_key(customer, DEV_PSEUDONYM_KEY)
    assert [c["consent_id"] for c in body["consents"]] == [consent_id]
    assert customer not in r.text
    assert client.delete(f"/v1/customers/{customer}").status_code == 202
    assert client.post("/v1/customers:export", json={"customer_id": customer}).json()["consents"] == []


@pytest.mark.parametrize(
    ("url", "content", "headers", "status", "field"),
    [
        ("/v1/openfinance/brasil/accounts", b'{"data": []}', {"x-institution": "bb"}, 422, "header.x-customer-id"),
        (
            "/v1/openfinance/brasil/balances",
            b'{"data": {}}',
            {"x-institution": "bb", "x-customer-id": "c"},
            422,
            "header.x-account-id",
        ),
        ("/v1/openfinance/brasil/accounts", b'{"data": []}', {"x-customer-id": "c"}, 422, None),
        ("/v1/openfinance/brasil/teleports", b'{"data": []}', {"x-institution": "bb", "x-customer-id": "c"}, 422, None),
        (
            "/v1/openbanking/uk/accounts",
            b'{"Data": {}}',
            {"x-institution": "a", "x-customer-id": "c"},
            422,
            "Data.Account",
        ),
        ("/v1/webhooks/belvo", b'{"webhook_type": "TRANSACTIONS"}', {}, 422, "body"),
    ],
)
def test_document_errors_are_problem_details(
    client: TestClient, url: str, content: bytes, headers: dict, status: int, field: str | None
) -> None:
    r = _post(client, url, content, **headers)
    assert r.status_code == status and r.headers["content-type"] == "application/problem+json", r.text
    if field:
        assert r.json()["errors"][0]["field"] == field


@pytest.mark.parametrize(
    "url", ["/v1/openfinance/brasil/accounts", "/v1/openbanking/uk/transactions", "/v1/webhooks/belvo"]
)
def test_media_type_and_size_limits(client: TestClient, url: str) -> None:
    headers = {"x-institution": "bb", "x-customer-id": "c"}
    r = client.post(url, content=b"<xml/>", headers={**headers, "content-type": "application/xml"})
    assert r.status_code == 415
    r = client.post(
        url, content=b"[" + b"1," * 6_000_000 + b"1]", headers={**headers, "content-type": "application/json"}
    )
    assert r.status_code == 413


def test_counts_hold_for_mixed_documents(client: TestClient, unique: Callable[[str], str]) -> None:
    customer = unique("mix")
    _grant(client, customer, ["transactions"])
    document = {
        "data": [
            {
                "transactionId": unique("t"),
                "creditDebitType": "DEBITO",
                "transactionAmount": {"amount": "1.00", "currency": "BRL"},
                "transactionDate": "2026-11-01",
            },
            {"transactionId": "x", "creditDebitType": "DEBITO"},
            {
                "transactionId": unique("t"),
                "creditDebitType": "CREDITO",
                "amount": "3.10",
                "transactionDate": "2026-11-02",
            },
        ]
    }
    body = _post(
        client,
        "/v1/openfinance/brasil/account-transactions",
        json.dumps(document).encode(),
        **{"x-customer-id": customer, "x-institution": unique("i"), "x-account-id": "a"},
    ).json()
    _assert_counts(body)
    assert [i["status"] for i in body["items"]] == ["accepted", "invalid", "accepted"]
    other = _post(
        client,
        "/v1/openfinance/brasil/account-transactions",
        json.dumps(document).encode(),
        **{"x-customer-id": unique("nobody"), "x-institution": unique("i"), "x-account-id": "a"},
    ).json()
    assert [i["status"] for i in other["items"]] == ["refused_no_consent", "invalid", "refused_no_consent"]


def test_marketing_permissions_and_do_not_contact_import(client: TestClient, broker: str) -> None:
    customer, listed = f"mk-{uuid.uuid4().hex[:8]}", f"reus-{uuid.uuid4().hex[:8]}"
    r = client.post(
        "/v1/marketing/permissions", json={"customer_id": customer, "channel": "email", "permission": "opted_in"}
    )
    assert r.status_code == 200 and r.json()["customer_key"] == customer_key(customer, DEV_PSEUDONYM_KEY)
    client.post(
        "/v1/marketing/permissions", json={"customer_id": customer, "channel": "sms", "permission": "opted_out"}
    )

    registry = {
        "registry": "REUS",
        "entries": [
            {"customer_id": listed},
            {"channels": ["sms"]},
            {"customer_id": customer, "channels": ["email", "pigeon"]},
        ],
    }
    body = client.post("/v1/marketing/do-not-contact:import", json=registry).json()
    _assert_counts(body)
    assert [i["status"] for i in body["items"]] == ["accepted", "invalid", "invalid"]
    assert "entries.1.customer_id" in body["items"][1]["reason"] and "entries.2.channels" in body["items"][2]["reason"]
    again = client.post("/v1/marketing/do-not-contact:import", json=registry).json()
    assert again["items"][0]["status"] == "duplicate"

    blocked = client.post(
        "/v1/marketing/permissions", json={"customer_id": listed, "channel": "whatsapp", "permission": "opted_in"}
    )
    assert blocked.status_code == 409 and blocked.headers["content-type"] == "application/problem+json"
    exported = client.post("/v1/customers:export", json={"customer_id": customer}).json()
    assert exported["marketing"] == {"email": "opted_in", "sms": "opted_out"}
    assert set(client.post("/v1/customers:export", json={"customer_id": listed}).json()["marketing"].values()) == {
        "opted_out"
    }

    ck = customer_key(listed, DEV_PSEUDONYM_KEY)
    events = read_topic(
        broker, topics.CONSENT_EVENTS, min_count=6, match=lambda rec: customer_part(rec.key) == ck.encode()
    )
    assert {json.loads(e.value)["type"] for e in events} == {"marketing.permission_changed"}
    assert client.delete(f"/v1/customers/{listed}").status_code == 202
    assert client.post("/v1/customers:export", json={"customer_id": listed}).json()["marketing"] == {}


def test_do_not_contact_import_shape_errors(client: TestClient) -> None:
    r = client.post("/v1/marketing/do-not-contact:import", json={"entries": 3})
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"registry", "entries"}
