"""Data-subject requests and the Open Finance source relays, with fake upstreams."""

from __future__ import annotations

import json

import httpx
import pytest

from gateway.domain.audit import AuditedResource
from tests.unit.gateway.conftest import Gateway

CPF = "123.456.789-09"
ADMIN = {"X-API-Key": "dev-admin-key"}
INGEST = {"X-API-Key": "dev-ingest-key"}


def test_export_is_admin_only_audited_and_keeps_the_id_out_of_the_url(gateway: Gateway) -> None:
    gateway.upstream.handler = lambda r: httpx.Response(200, json={"customer_key": "ck_x", "consents": []})
    assert gateway.client.post("/v1/data-subject/export", json={"customer_id": CPF}, headers=INGEST).status_code == 403
    response = gateway.client.post("/v1/data-subject/export", json={"customer_id": CPF}, headers=ADMIN)
    assert response.status_code == 200 and response.json()["customer_key"] == "ck_x"
    [request] = gateway.upstream.seen
    assert request.url.path == "/v1/customers:export" and CPF not in str(request.url)
    assert json.loads(request.content) == {"customer_id": CPF}
    [(_, customer_key, resource, _)] = gateway.audit.records
    assert resource is AuditedResource.DATA_EXPORT and customer_key.startswith("ck_")


def test_erasure_is_relayed_to_ingest(gateway: Gateway) -> None:
    gateway.upstream.handler = lambda r: httpx.Response(202, json={"customer_key": "ck_x", "erasure_event_id": "e"})
    response = gateway.client.post("/v1/data-subject/erasure", json={"customer_id": CPF}, headers=ADMIN)
    assert response.status_code == 202
    assert gateway.upstream.seen[0].url.path == "/v1/customers:erase"


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
