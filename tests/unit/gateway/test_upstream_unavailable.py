"""An upstream's 503 + Retry-After reaches the caller as 503 (not 502), and the gateway's upstream
timeout is ordered after the upstreams' bounded publish wait."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from gateway.settings import Settings
from tests.unit.gateway.conftest import Gateway
from tests.unit.gateway.test_routes import INGEST, _problem


def test_an_upstream_503_passes_through_with_its_retry_after(gateway: Gateway) -> None:
    gateway.upstream.handler = lambda r: httpx.Response(
        503,
        json={"title": "Broker unavailable", "status": 503, "detail": "internal: 3 event(s) not acknowledged"},
        headers={"content-type": "application/problem+json", "retry-after": "7"},
    )
    response = gateway.client.post("/v1/events:batch", headers=INGEST, content=b'{"events": []}')
    body = _problem(response, 503)
    assert response.headers["retry-after"] == "7"
    assert "ingest-openfinance" in body["detail"]


def test_a_malformed_retry_after_is_replaced(gateway: Gateway) -> None:
    gateway.upstream.handler = lambda r: httpx.Response(503, text="busy", headers={"retry-after": "soon"})
    response = gateway.client.post("/v1/events:batch", headers=INGEST, content=b'{"events": []}')
    _problem(response, 503)
    assert int(response.headers["retry-after"]) > 0


def test_the_edge_never_gives_up_before_the_service_it_waits_for(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().upstream_timeout_s > Settings().producer_delivery_timeout_ms / 1000 + 1
    monkeypatch.setenv("PROMETEO_PRODUCER_DELIVERY_TIMEOUT_MS", "30000")
    with pytest.raises(ValidationError, match="UPSTREAM_TIMEOUT_S"):
        Settings()
    monkeypatch.setenv("PROMETEO_GATEWAY_UPSTREAM_TIMEOUT_S", "40")
    assert Settings().upstream_timeout_s == 40
