"""The gateway over a real Redis and broker, with a real HTTP stand-in for the upstream services."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Iterator

import pytest
import redis as redis_lib
from fastapi.testclient import TestClient

from gateway.domain.credentials import actor_id
from gateway.main import app
from gateway.settings import get_settings
from prometeo import keys
from prometeo.contracts import Envelope, topics
from prometeo.identity import customer_key
from tests.bus_helpers import read_topic, wait_until
from tests.integration.gateway.conftest import StubUpstream

pytestmark = pytest.mark.integration

LIMIT = 5
PSEUDONYM_KEY = "integration-pseudonym-key"


@pytest.fixture
def api_keys(unique: Callable[[str], str]) -> dict[str, str]:
    """Fresh keys per test: the rate-limit counters in the shared Redis never collide."""
    return {unique("advisor-key"): "advisor", unique("marketing-a"): "marketing", unique("marketing-b"): "marketing"}


@pytest.fixture
def gateway(
    service_env: Callable[[dict[str, str]], None],
    stub_upstream: StubUpstream,
    closed_port_url: str,
    api_keys: dict[str, str],
) -> Iterator[TestClient]:
    service_env(
        {
            "PROMETEO_GATEWAY_API_KEYS": json.dumps(api_keys),
            "PROMETEO_GATEWAY_RATE_LIMIT_PER_MINUTE": str(LIMIT),
            "PROMETEO_GATEWAY_NEXT_BEST_ACTION_URL": stub_upstream.url,
            "PROMETEO_GATEWAY_CAMPAIGNS_URL": stub_upstream.url,
            "PROMETEO_GATEWAY_FEATURE_STORE_URL": closed_port_url,
            "PROMETEO_PSEUDONYM_KEY": PSEUDONYM_KEY,
        }
    )
    get_settings.cache_clear()
    with TestClient(app) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200, timeout=20)
        yield client
    get_settings.cache_clear()


def _key(api_keys: dict[str, str], role: str, nth: int = 0) -> str:
    return [k for k, r in api_keys.items() if r == role][nth]


def test_rate_limit_over_real_redis_is_per_key(
    gateway: TestClient, api_keys: dict[str, str], redis: redis_lib.Redis
) -> None:
    key_a, key_b = _key(api_keys, "marketing", 0), _key(api_keys, "marketing", 1)
    for n in range(LIMIT):
        response = gateway.get("/v1/kpis", headers={"X-API-Key": key_a})
        assert response.status_code == 200, response.text
        assert response.headers["ratelimit-remaining"] == str(LIMIT - n - 1)

    limited = gateway.get("/v1/kpis", headers={"X-API-Key": key_a})
    assert limited.status_code == 429
    assert limited.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.headers["ratelimit-limit"] == str(LIMIT)

    # Another key has its own budget, whichever header carries it.
    assert gateway.get("/v1/kpis", headers={"Authorization": f"Bearer {key_b}"}).status_code == 200

    counter = keys.entity(keys.GATEWAY, "ratelimit", actor_id(key_a))
    count = redis.get(counter)
    assert count is not None and int(count) == LIMIT + 1
    assert 0 < redis.ttl(counter) <= 60
    assert not any(key_a.encode() in k for k in redis.keys("gateway:*"))  # the key itself is never stored


def test_recommendations_read_is_audited_on_audit_v1_without_the_raw_id(
    gateway: TestClient,
    api_keys: dict[str, str],
    broker: str,
    stub_upstream: StubUpstream,
    caplog: pytest.LogCaptureFixture,
) -> None:
    raw_id = str(random.randint(10**10, 10**11 - 1))  # CPF-shaped, unique per run
    ck = customer_key(raw_id, PSEUDONYM_KEY)
    advisor = _key(api_keys, "advisor")

    with caplog.at_level(logging.DEBUG):
        response = gateway.get(
            f"/v1/customers/{raw_id}/recommendations?lang=en",
            headers={"X-API-Key": advisor, "X-Purpose": "customer_service"},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["customer_key"] == ck
    assert body["recommendations"][0]["reasons"] == [{"code": "payroll", "text": "Receives payroll"}]

    path, headers = next((p, h) for p, h in stub_upstream.seen if p.startswith(f"/v1/nba/{ck}"))
    assert path == f"/v1/nba/{ck}/presentations?lang=en"
    assert "traceparent" in headers and "x-api-key" not in headers

    [record] = read_topic(broker, topics.AUDIT, match=lambda r: r.key == ck.encode())
    assert raw_id.encode() not in record.value
    event = Envelope.model_validate_json(record.value)
    assert (event.type, event.customer_key, event.source) == ("audit.customer_data_read", ck, "gateway")
    assert event.payload == {
        "actor": actor_id(advisor),
        "role": "advisor",
        "resource": "recommendations",
        "purpose": "customer_service",
    }
    assert advisor not in record.value.decode()
    # The test's own client logs the URL it called (testserver); everything the gateway logged is clean.
    gateway_logs = "\n".join(r.getMessage() for r in caplog.records if "testserver" not in r.getMessage())
    assert gateway_logs and raw_id not in gateway_logs and advisor not in gateway_logs

    metrics = gateway.get("/metrics").text
    assert 'prometeo_audit_reads_total{resource="recommendations"}' in metrics

    # A ranking objective is passed through; an unknown one is refused at the edge.
    ranked = gateway.get(f"/v1/customers/{raw_id}/recommendations?objective=conversion", headers={"X-API-Key": advisor})
    assert ranked.status_code == 200 and stub_upstream.seen[-1][0].endswith("?lang=es&objective=conversion")
    refused = gateway.get(f"/v1/customers/{raw_id}/recommendations?objective=revenue", headers={"X-API-Key": advisor})
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json")


def test_marketing_pauses_campaigns_and_reads_experiments(gateway: TestClient, api_keys: dict[str, str]) -> None:
    marketing, advisor = ({"X-API-Key": _key(api_keys, role)} for role in ("marketing", "advisor"))
    paused = gateway.post("/v1/campaigns/spring-2026/pause", headers=marketing)
    assert paused.status_code == 200 and paused.json() == {"campaign_id": "spring-2026", "paused": True}
    assert gateway.post("/v1/campaigns/spring-2026/resume", headers=marketing).json()["paused"] is False
    assert gateway.post("/v1/campaigns/spring-2026/pause", headers=advisor).status_code == 403
    assert gateway.post("/v1/campaigns/spring-2026/delete", headers=marketing).status_code == 422
    lift = gateway.get("/v1/experiments/spring-2026", headers=marketing)
    assert lift.status_code == 200 and lift.json()["lift"]["p_value"] == 0.01


def test_upstream_problems_and_outages(gateway: TestClient, api_keys: dict[str, str]) -> None:
    advisor = {"X-API-Key": _key(api_keys, "advisor")}
    not_found = gateway.get("/v1/customers/ck_unknown-123/recommendations", headers=advisor)
    assert not_found.status_code == 404 and not_found.json()["title"] == "Customer not found"

    down = gateway.get("/v1/customers/ck_some-customer/features", headers=advisor)
    assert down.status_code == 502
    assert down.json()["detail"] == "feature-store is unreachable"


def test_readiness_reports_upstreams_without_requiring_them(gateway: TestClient) -> None:
    ready = gateway.get("/readyz")
    assert ready.status_code == 200
    checks = ready.json()["checks"]
    assert checks["redis"]["ok"] and checks["broker"]["ok"]
    detail = checks["upstreams"]["detail"]
    assert "next-best-action: ok" in detail and "feature-store: down" in detail
