"""Data-subject requests and the Open Finance source relays, with fake upstreams."""

from __future__ import annotations

import json
from datetime import datetime

import httpx
import pytest

from gateway.domain.audit import AuditedResource
from tests.unit.gateway.conftest import Gateway

CPF = "123.456.789-09"
ADMIN = {"X-API-Key": "dev-admin-key"}
INGEST = {"X-API-Key": "dev-ingest-key"}


def _service_parts(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/v1/customers:export":
        consent = {"consent_id": "c1", "jurisdiction": "MX", "status": "authorised"}
        return httpx.Response(200, json={"customer_key": "ck_x", "consents": [consent], "marketing": {}})
    if request.url.path.startswith("/internal/v1/customers/") and request.url.path.endswith("/export"):
        service = {"8001": "ingest-openfinance", "8002": "feature-store", "8003": "scoring"}.get(
            str(request.url.port), "other"
        )
        return httpx.Response(200, json={"service": service, "customer_key": "ck_x", "items": {"x": 1}})
    return httpx.Response(202, json={"customer_key": "ck_x", "event_id": "e"})


def test_export_is_admin_only_audited_assembled_from_every_service_and_keeps_the_id_out_of_urls(
    gateway: Gateway,
) -> None:
    gateway.upstream.handler = _service_parts
    assert gateway.client.post("/v1/data-subject/export", json={"customer_id": CPF}, headers=INGEST).status_code == 403
    response = gateway.client.post("/v1/data-subject/export", json={"customer_id": CPF}, headers=ADMIN)
    assert response.status_code == 200, response.text
    document = response.json()
    assert set(document["parts"]) == {
        "ingest-openfinance",
        "feature-store",
        "scoring",
        "next-best-action",
        "campaigns",
        "gateway",
    }
    # A Mexican customer's summary is in Spanish and names the LFPDPPP.
    assert (document["jurisdiction"], document["language"]) == ("MX", "es") and "LFPDPPP" in document["summary"]
    paths = [r.url.path for r in gateway.upstream.seen]
    assert paths[0] == "/v1/customers:export" and all(CPF not in str(r.url) for r in gateway.upstream.seen)
    assert json.loads(gateway.upstream.seen[0].content) == {"customer_id": CPF}
    assert sum(p.startswith("/internal/v1/customers/ck_") for p in paths) == 5
    [(_, customer_key, resource, _)] = gateway.audit.records
    assert resource is AuditedResource.DATA_EXPORT and customer_key.startswith("ck_")
    [record] = gateway.requests.records
    assert (record.kind, record.jurisdiction, record.status) == ("access", "MX", "completed")


def test_erasure_is_relayed_to_ingest_and_tracked_with_its_deadline(gateway: Gateway) -> None:
    gateway.upstream.handler = _service_parts
    response = gateway.client.post("/v1/data-subject/erasure", json={"customer_id": CPF}, headers=ADMIN)
    assert response.status_code == 202
    assert [r.url.path for r in gateway.upstream.seen] == ["/v1/customers:export", "/v1/customers:erase"]
    listed = gateway.client.get("/v1/data-subject/requests", headers=ADMIN).json()
    [request] = listed["requests"]
    assert request["kind"] == "erasure" and request["law"].startswith("LFPDPPP")
    # ARCO: 20 business days, so at least 26 calendar days.
    due = datetime.fromisoformat(request["due_at"]) - datetime.fromisoformat(request["received_at"])
    assert due.days >= 26


def test_rectification_and_objection_are_relayed_to_ingest(gateway: Gateway) -> None:
    gateway.upstream.handler = _service_parts
    body = {"customer_id": CPF, "region": "SP"}
    assert gateway.client.post("/v1/data-subject/rectification", json=body, headers=ADMIN).status_code == 202
    assert (
        gateway.client.post("/v1/data-subject/objection", json={"customer_id": CPF}, headers=ADMIN).status_code == 202
    )
    relayed = [
        (r.url.path, json.loads(r.content)) for r in gateway.upstream.seen if r.url.path != "/v1/customers:export"
    ]
    assert relayed == [
        ("/v1/customers:rectify", body),
        ("/v1/customers:object", {"customer_id": CPF, "objected": True}),
    ]
    assert [r.kind for r in gateway.requests.records] == ["rectification", "objection"]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/openfinance/brasil/account-transactions",
        "/v1/openbanking/uk/transactions",
        "/v1/webhooks/belvo",
        "/v1/marketing/permissions",
        "/v1/marketing/do-not-contact:import",
        "/v1/consents/urn:c:1/status",
    ],
)
def test_source_documents_are_relayed_with_their_identity_headers(gateway: Gateway, path: str) -> None:
    gateway.upstream.handler = lambda r: httpx.Response(200, json={"received": 1})
    headers = {**INGEST, "content-type": "application/json", "X-Customer-Id": CPF, "X-Institution": "bank-x"}
    response = gateway.client.post(path, content=b'{"data": []}', headers=headers)
    assert response.status_code == 200
    [request] = gateway.upstream.seen
    assert request.url.path == path.replace("urn:c:1", "urn%3Ac%3A1") or request.url.path == path
    assert request.headers["x-customer-id"] == CPF and request.headers["x-institution"] == "bank-x"
    assert request.content == b'{"data": []}'


def test_campaigns_are_managed_by_marketing_through_the_gateway(gateway: Gateway) -> None:
    gateway.upstream.handler = lambda r: httpx.Response(201 if r.method == "POST" else 200, json={"id": "c1"})
    marketing = {"X-API-Key": "dev-marketing-key", "content-type": "application/json"}
    assert gateway.client.post("/v1/campaigns", content=b'{"id": "c1"}', headers=marketing).status_code == 201
    assert gateway.client.get("/v1/campaigns/c1", headers=marketing).json() == {"id": "c1"}
    assert gateway.client.get("/v1/campaigns", headers={"X-API-Key": "dev-advisor-key"}).status_code == 403
    assert [r.url.path for r in gateway.upstream.seen] == ["/v1/campaigns", "/v1/campaigns/c1"]
