"""The gateway over a real Redis and broker, with a real HTTP stand-in for the upstream services."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import jwt
import pytest
import redis as redis_lib
from fastapi.testclient import TestClient

from gateway.domain.credentials import actor_id
from gateway.main import app
from gateway.settings import get_settings
from prometeo import clock, keys
from prometeo.contracts import Envelope, topics
from prometeo.identity import customer_key
from prometeo.service_tokens import ServiceKeys, verify
from prometeo.settings import SharedSettings
from tests.bus_helpers import read_topic, wait_until
from tests.integration.gateway.conftest import IDP_KEY, IDP_KID, StubUpstream

pytestmark = pytest.mark.integration

LIMIT = 5
IN_HOURS = datetime(2026, 3, 3, 13, 0, tzinfo=UTC)
IDP_ISSUER = "https://idp.bank.example/realms/staff"
PSEUDONYM_KEY = "integration-pseudonym-key"


@pytest.fixture
def api_keys(unique: Callable[[str], str]) -> dict[str, str]:
    """Fresh keys per test: the rate-limit counters in the shared Redis never collide."""
    return {
        unique("advisor-key"): "advisor",
        unique("marketing-a"): "marketing",
        unique("marketing-b"): "marketing",
        unique("admin-key"): "admin",
    }


@pytest.fixture
def gateway(
    service_env: Callable[[dict[str, str]], None],
    stub_upstream: StubUpstream,
    closed_port_url: str,
    api_keys: dict[str, str],
    tmp_path: Path,
) -> Iterator[TestClient]:
    service_env(
        {
            "PROMETEO_GATEWAY_DATA_DIR": str(tmp_path / "gateway"),
            "PROMETEO_GATEWAY_GUARD_MAX_CUSTOMERS": "4",
            "PROMETEO_GATEWAY_OIDC_ISSUERS": json.dumps(
                [
                    {
                        "issuer": IDP_ISSUER,
                        "audience": "api://prometeo",
                        "jwks_url": f"{stub_upstream.url}/idp/jwks",
                        "role_map": {"Prometeo.Analyst": "analyst"},
                    }
                ]
            ),
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
        # People's reads are checked against working hours: pin the guard's clock to a Tuesday 10:00 in São Paulo.
        app.state.guard.now = lambda: IN_HOURS
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

    # A token bucket: empty after the burst, refilling at LIMIT per minute; it expires once it would be full.
    bucket = keys.entity(keys.GATEWAY, "ratelimit", actor_id(key_a))
    assert float(redis.hget(bucket, "tokens") or "nan") < 1
    assert 0 < redis.pttl(bucket) <= 61_000
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
    # The upstream call carries the gateway's service token (the stub stands in for two services at one URL).
    scheme, token = headers["authorization"].split()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert scheme == "Bearer" and claims["iss"] == "gateway"
    verify(ServiceKeys.from_settings(SharedSettings()), token, audience=claims["aud"])

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

    # The durable record, queryable by an admin, names the same actor.
    admin = {"X-API-Key": _key(api_keys, "admin")}
    [stored] = gateway.get("/v1/audit", params={"customer": raw_id}, headers=admin).json()["records"]
    assert (stored["actor"], stored["purpose"], stored["customer_key"]) == (actor_id(advisor), "customer_service", ck)

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


def test_two_clients_of_one_role_are_limited_independently(
    gateway: TestClient, api_keys: dict[str, str], unique: Callable[[str], str], redis: redis_lib.Redis
) -> None:
    """Client credentials over the real Redis registry and token buckets: one busy CRM never throttles another."""
    admin = {"X-API-Key": _key(api_keys, "admin")}
    tokens = {}
    for name in ("busy", "quiet"):
        client_id = unique(f"crm-{name}")
        body = {"client_id": client_id, "name": name, "scopes": ["marketing"], "rate_limit_per_minute": 3}
        created = gateway.post("/v1/admin/clients", json=body, headers=admin)
        assert created.status_code == 201, created.text
        form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": created.json()["client_secret"],
        }
        tokens[name] = gateway.post("/oauth/token", data=form).json()["access_token"]
        assert redis.get(f"gateway:client:{client_id}") is not None

    busy = {"Authorization": f"Bearer {tokens['busy']}"}
    assert [gateway.get("/v1/kpis", headers=busy).status_code for _ in range(3)] == [200, 200, 200]
    limited = gateway.get("/v1/kpis", headers=busy)
    assert limited.status_code == 429 and limited.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(limited.headers["retry-after"]) <= 20  # one token back at 3/min
    assert limited.headers["ratelimit-policy"] == "3;w=60" and limited.headers["ratelimit"].startswith('"client";r=0')
    quiet = gateway.get("/v1/kpis", headers={"Authorization": f"Bearer {tokens['quiet']}"})
    assert quiet.status_code == 200 and quiet.headers["ratelimit-remaining"] == "2"

    # Disabled in the shared registry: its live token is refused within the registry's 1 s cache.
    [quiet_id] = [
        c["client_id"] for c in gateway.get("/v1/admin/clients", headers=admin).json() if "quiet" in c["client_id"]
    ]
    assert gateway.post(f"/v1/admin/clients/{quiet_id}/disable", headers=admin).json()["disabled"] is True
    wait_until(
        lambda: gateway.get("/v1/kpis", headers={"Authorization": f"Bearer {tokens['quiet']}"}).status_code == 401,
        timeout=1.5,
    )


def test_profile_events_scope_an_advisors_reads_and_erasure_removes_them(
    gateway: TestClient, broker: str, redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    """The gateway's own consumer keeps each customer's branch and portfolio from account-events.v1."""
    from prometeo.bus import EventProducer
    from prometeo.contracts import new_event
    from prometeo.contracts.events import CustomerErasureRequestedV1, CustomerProfiledV1
    from prometeo_dev.demo import DEMO_USERS

    mine, other = f"ck_{unique('mine')}", f"ck_{unique('other')}"
    producer = EventProducer(broker, "gateway-it")
    for ck, advisor in ((mine, "adv-sp-01"), (other, "adv-sp-02")):
        profile = CustomerProfiledV1(age_band="25-34", branch_id="br-sp", advisor_id=advisor)
        producer.publish(topics.ACCOUNT_EVENTS, new_event(profile, customer_key=ck, source="it")).get(10)
    wait_until(lambda: redis.exists(keys.customer(keys.GATEWAY, other, "scope")) == 1, timeout=30)

    form = {"grant_type": "password", "username": "ana.advisor", "password": DEMO_USERS["ana.advisor"][0]}
    ana = {"Authorization": "Bearer " + gateway.post("/oidc/token", data=form).json()["access_token"]}
    assert gateway.get(f"/v1/customers/{mine}/recommendations", headers=ana).status_code == 200
    assert gateway.get(f"/v1/customers/{other}/recommendations", headers=ana).status_code == 404

    erasure = CustomerErasureRequestedV1(reason="data_subject_request")
    producer.publish(topics.CUSTOMER_ERASURE, new_event(erasure, customer_key=mine, source="it")).get(10)
    scope = keys.customer(keys.GATEWAY, mine, "scope")
    wait_until(lambda: redis.hget(scope, "erased_at") is not None, timeout=30)
    assert gateway.get(f"/v1/customers/{mine}/recommendations", headers=ana).status_code == 404
    producer.close()


def test_the_insider_guard_blocks_a_bulk_reader_until_an_admin_lifts_it(
    gateway: TestClient, api_keys: dict[str, str], unique: Callable[[str], str]
) -> None:
    """Over real Redis (one script per read), with the clock pinned to a Tuesday 10:00 in São Paulo."""
    from gateway.settings import get_settings
    from prometeo_dev.demo import DEMO_USERS

    limit = get_settings().guard_max_customers
    admin = {"X-API-Key": _key(api_keys, "admin")}
    gateway.delete("/v1/admin/guard/blocks/dora.dpo", headers=admin)  # a clean slate in the shared Redis
    form = {"grant_type": "password", "username": "dora.dpo", "password": DEMO_USERS["dora.dpo"][0]}
    dora = {"Authorization": "Bearer " + gateway.post("/oidc/token", data=form).json()["access_token"]}
    customers = [f"ck_{unique('bulk')}" for _ in range(limit + 1)]

    for ck in customers[:limit]:
        assert gateway.get(f"/v1/customers/{ck}/recommendations", headers=dora).status_code == 200
    assert gateway.get(f"/v1/customers/{customers[0]}/recommendations", headers=dora).status_code == 200  # re-read
    over = gateway.get(f"/v1/customers/{customers[limit]}/recommendations", headers=dora)
    assert over.status_code == 403 and over.headers["content-type"].startswith("application/problem+json")
    assert over.json()["rule"] == "read_volume" and str(limit) in over.json()["detail"]
    assert gateway.get(f"/v1/customers/{customers[0]}/recommendations", headers=dora).status_code == 403  # blocked

    assert gateway.get("/v1/admin/guard/blocks", headers=admin).json().get("dora.dpo") == "read_volume"
    [event] = [
        r
        for r in gateway.get("/v1/audit", params={"actor": "dora.dpo", "limit": 1000}, headers=admin).json()["records"]
        if r["action"] == "security"
    ][-1:]
    assert (event["resource"], event["result"], event["customer_key"]) == ("read_volume", "blocked", customers[limit])
    assert 'prometeo_gateway_insider_blocks_total{rule="read_volume"}' in gateway.get("/metrics").text

    assert gateway.delete("/v1/admin/guard/blocks/dora.dpo", headers=admin).status_code == 204
    assert gateway.get(f"/v1/customers/{customers[0]}/recommendations", headers=dora).status_code == 200

    app.state.guard.now = lambda: datetime(2026, 3, 3, 6, 0, tzinfo=UTC)  # 03:00 in São Paulo
    night = gateway.get(f"/v1/customers/{customers[0]}/recommendations", headers=dora)
    assert night.status_code == 403 and night.json()["rule"] == "out_of_hours"


def test_a_person_from_an_external_idp_is_verified_through_its_jwks_url(gateway: TestClient) -> None:
    """The bank's IdP publishes its keys over HTTP; the gateway fetches (and caches) them by kid."""
    import jwt

    now = int(clock.timestamp())  # the test's world runs on the platform's clock
    claims = {
        "iss": IDP_ISSUER,
        "aud": "api://prometeo",
        "sub": "emp-777",
        "iat": now,
        "exp": now + 300,
        "roles": ["Prometeo.Analyst"],
    }
    token = jwt.encode(claims, IDP_KEY, algorithm="RS256", headers={"kid": IDP_KID})
    assert gateway.get("/v1/kpis", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    wrong_kid = jwt.encode(claims, IDP_KEY, algorithm="RS256", headers={"kid": "rotated-away"})
    refused = gateway.get("/v1/kpis", headers={"Authorization": f"Bearer {wrong_kid}"})
    assert refused.status_code == 401 and refused.headers["content-type"].startswith("application/problem+json")
