"""Routes end to end inside the process: auth, limits, audit and upstream handling (MockTransport)."""

from __future__ import annotations

import json

import httpx
import pytest

from gateway.api.recommendations import _UpstreamDecision, to_public
from gateway.domain.audit import AuditedResource, ReadPurpose
from gateway.domain.credentials import actor_id
from gateway.domain.roles import Role
from prometeo.identity import customer_key
from prometeo.settings import DEV_PSEUDONYM_KEY
from tests.unit.gateway.conftest import Gateway

ADVISOR = {"X-API-Key": "dev-advisor-key"}
CRM = {"Authorization": "Bearer dev-crm-key"}
MARKETING = {"X-API-Key": "dev-marketing-key"}
INGEST = {"X-API-Key": "dev-ingest-key"}
ADMIN = {"X-API-Key": "dev-admin-key"}
CPF = "123.456.789-09"
CK = customer_key(CPF, DEV_PSEUDONYM_KEY)

DECISION = {
    "customer_key": CK,
    "decision_id": "dec-1",
    "model_version": "7",
    "decided_at": "2025-01-02T03:04:05Z",
    "offers": [
        {
            "offer_id": "o-1",
            "product": "credit_card",
            "channel": "app_push",
            "propensity": 0.8,
            "expected_value": 120.5,
            "reasons": [{"code": "payroll", "text": "Recibe nómina", "weight": 0.4}],
            "rules_passed": ["consent"],
        },
        {
            "offer_id": "o-2",
            "product": "savings",
            "channel": "email",
            "propensity": 0.5,
            "expected_value": 30.0,
            "reasons": [],
            "rules_passed": [],
        },
    ],
    "blocked": {"mortgage": ["age_band"]},
}


def _problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"]
    return body


# ---- authentication and authorisation ------------------------------------------------------------


def test_missing_key_is_401_with_a_challenge(gateway: Gateway) -> None:
    response = gateway.client.get("/v1/kpis")
    body = _problem(response, 401)
    assert response.headers["www-authenticate"] == 'Bearer realm="prometeo"'
    assert "X-API-Key" in body["detail"]
    assert gateway.upstream.seen == []


def test_invalid_key_is_401_invalid_token_and_never_echoed(gateway: Gateway) -> None:
    response = gateway.client.get("/v1/kpis", headers={"X-API-Key": "guessed-key-123"})
    _problem(response, 401)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert "guessed-key-123" not in response.text


def test_basic_auth_is_refused(gateway: Gateway) -> None:
    _problem(gateway.client.get("/v1/kpis", headers={"Authorization": "Basic Zm9vOmJhcg=="}), 401)


def test_role_without_permission_is_403_after_being_counted(gateway: Gateway) -> None:
    body = _problem(gateway.client.get(f"/v1/customers/{CPF}/recommendations", headers=MARKETING), 403)
    assert "marketing" in body["detail"] and "advisor" in body["detail"]
    assert gateway.limiter.counts == {actor_id("dev-marketing-key"): 1}
    assert gateway.upstream.seen == [] and gateway.audit.records == []


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", f"/v1/customers/{CK}/recommendations", {"admin", "advisor", "crm", "branch_manager", "dpo"}),
        ("POST", f"/v1/customers/{CK}/outcomes", {"admin", "advisor", "crm", "branch_manager"}),
        ("GET", f"/v1/customers/{CK}/features", {"admin", "advisor", "branch_manager", "dpo"}),
        ("GET", "/v1/kpis", {"admin", "marketing", "branch_manager", "analyst"}),
        ("GET", "/v1/levers", {"admin", "marketing"}),
        ("PUT", "/v1/levers/mortgage", {"admin", "marketing"}),
        ("POST", "/v1/consents", {"admin", "ingest"}),
        ("POST", "/v1/events:batch", {"admin", "ingest"}),
    ],
)
def test_route_role_matrix(gateway: Gateway, method: str, path: str, allowed: set[str]) -> None:
    for role in Role:
        response = gateway.client.request(method, path, headers={"X-API-Key": f"dev-{role.value}-key"})
        assert (response.status_code != 403) is (role.value in allowed), (role, response.status_code)


# ---- rate limit ----------------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after_and_ratelimit_headers(gateway: Gateway) -> None:
    gateway.limiter.limit = 2
    gateway.upstream.handler = lambda r: httpx.Response(200, json={"offers_made": 3})
    first = gateway.client.get("/v1/kpis", headers=MARKETING)
    assert first.status_code == 200
    assert first.headers["ratelimit-limit"] == "2" and first.headers["ratelimit-remaining"] == "1"
    assert gateway.client.get("/v1/kpis", headers=MARKETING).status_code == 200
    limited = gateway.client.get("/v1/kpis", headers=MARKETING)
    body = _problem(limited, 429)
    assert limited.headers["retry-after"] == "42"
    assert limited.headers["ratelimit-remaining"] == "0"
    assert limited.headers["ratelimit-policy"] == "2;w=60"
    assert "42" in body["detail"]
    assert len(gateway.upstream.seen) == 2


# ---- recommendations -----------------------------------------------------------------------------


def test_recommendations_are_reshaped_pseudonymised_and_audited(gateway: Gateway) -> None:
    gateway.upstream.handler = lambda r: httpx.Response(200, json=DECISION)
    response = gateway.client.get(f"/v1/customers/{CPF}/recommendations?lang=en", headers=ADVISOR)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["customer_key"] == CK
    assert body["generated_at"].startswith("2025-01-02T03:04:05")
    assert [r["rank"] for r in body["recommendations"]] == [1, 2]
    assert body["recommendations"][0]["reasons"] == [{"code": "payroll", "text": "Recibe nómina"}]
    assert body["recommendations"][0]["rules_passed"] == ["consent"]
    assert body["blocked"] == {"mortgage": ["age_band"]}
    # Written without a response-model pass: exactly what the declared model would have written.
    decision = _UpstreamDecision.model_validate(DECISION)
    assert body == to_public(decision).model_dump(mode="json")
    [request] = gateway.upstream.seen
    assert str(request.url) == f"http://127.0.0.1:8004/v1/nba/{CK}/presentations?lang=en"
    assert "12345678909" not in str(request.url) and CPF not in str(request.url)
    [(principal, ck, resource, purpose)] = gateway.audit.records
    assert (principal.actor, principal.role, ck) == (actor_id("dev-advisor-key"), Role.ADVISOR, CK)
    assert (resource, purpose) == (AuditedResource.RECOMMENDATIONS, ReadPurpose.CROSS_SELL_ANALYTICS)


def test_lang_defaults_to_spanish_and_is_validated(gateway: Gateway) -> None:
    gateway.upstream.handler = lambda r: httpx.Response(200, json=DECISION)
    assert gateway.client.get(f"/v1/customers/{CK}/recommendations", headers=CRM).status_code == 200
    assert gateway.upstream.seen[0].url.params["lang"] == "es"
    _problem(gateway.client.get(f"/v1/customers/{CK}/recommendations?lang=fr", headers=CRM), 422)


def test_declared_purpose_is_audited_and_unknown_purposes_refused(gateway: Gateway) -> None:
    gateway.upstream.handler = lambda r: httpx.Response(200, json=DECISION)
    headers = {**ADVISOR, "X-Purpose": "customer_service"}
    assert gateway.client.get(f"/v1/customers/{CK}/recommendations", headers=headers).status_code == 200
    assert gateway.audit.records[0][3] is ReadPurpose.CUSTOMER_SERVICE
    bad = {**ADVISOR, "X-Purpose": "curiosity"}
    _problem(gateway.client.get(f"/v1/customers/{CK}/recommendations", headers=bad), 422)


def test_upstream_problem_passes_through_and_is_not_audited(gateway: Gateway) -> None:
    problem = {"type": "about:blank", "title": "Customer not found", "status": 404, "detail": "no scores"}
    gateway.upstream.handler = lambda r: httpx.Response(
        404, content=json.dumps(problem), headers={"content-type": "application/problem+json"}
    )
    response = gateway.client.get(f"/v1/customers/{CK}/recommendations", headers=ADVISOR)
    assert _problem(response, 404) == problem
    assert response.headers["ratelimit-limit"] == "100"
    assert gateway.audit.records == []


@pytest.mark.parametrize(
    ("error", "status"),
    [(httpx.ConnectError("refused"), 502), (httpx.ReadTimeout("slow"), 504), (httpx.ConnectTimeout("slow"), 504)],
)
def test_transport_failures_become_gateway_problems(gateway: Gateway, error: Exception, status: int) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    gateway.upstream.handler = fail
    body = _problem(gateway.client.get(f"/v1/customers/{CK}/recommendations", headers=ADVISOR), status)
    assert "next-best-action" in body["detail"]


def test_upstream_5xx_becomes_502_without_its_body(gateway: Gateway) -> None:
    gateway.upstream.handler = lambda r: httpx.Response(500, text="Traceback: secret internals")
    response = gateway.client.get(f"/v1/customers/{CK}/recommendations", headers=ADVISOR)
    _problem(response, 502)
    assert "internals" not in response.text


def test_unreadable_decision_is_502_and_not_audited(gateway: Gateway) -> None:
    gateway.upstream.handler = lambda r: httpx.Response(200, json={"unexpected": True})
    _problem(gateway.client.get(f"/v1/customers/{CK}/recommendations", headers=ADVISOR), 502)
    assert gateway.audit.records == []


def test_no_data_without_audit(gateway: Gateway) -> None:
    from prometeo.web import Problem

    gateway.upstream.handler = lambda r: httpx.Response(200, json=DECISION)
    gateway.audit.fail = Problem(503, "Audit unavailable")
    response = gateway.client.get(f"/v1/customers/{CK}/recommendations", headers=ADVISOR)
    _problem(response, 503)
    assert "o-1" not in response.text


def test_malformed_customer_key_is_422_before_any_upstream_call(gateway: Gateway) -> None:
    _problem(gateway.client.get("/v1/customers/ck_x/recommendations", headers=ADVISOR), 422)
    assert gateway.upstream.seen == []


def test_unauthenticated_request_is_401_even_with_a_bad_customer_id(gateway: Gateway) -> None:
    _problem(gateway.client.get("/v1/customers/ck_x/recommendations"), 401)


# ---- features, outcomes, kpis --------------------------------------------------------------------


def test_features_are_relayed_and_audited(gateway: Gateway) -> None:
    features = {
        "customer_key": CK,
        "feature_set_version": "v1",
        "as_of": "2025-01-01T00:00:00Z",
        "features": {"spend_30d": 12.5},
        "held_products": ["savings"],
        "held_elsewhere": [],
    }
    gateway.upstream.handler = lambda r: httpx.Response(200, json=features)
    response = gateway.client.get(f"/v1/customers/{CPF}/features", headers=ADMIN)
    assert response.status_code == 200 and response.json()["features"] == {"spend_30d": 12.5}
    assert str(gateway.upstream.seen[0].url) == f"http://127.0.0.1:8002/v1/features/{CK}"
    assert gateway.audit.records[0][2] is AuditedResource.FEATURES


def test_outcome_is_forwarded_with_the_customer_key(gateway: Gateway) -> None:
    gateway.upstream.handler = lambda r: httpx.Response(202, json={"event_id": "ev-1"})
    body = {"offer_id": "o-1", "product": "credit_card", "outcome": "accepted", "revenue": "150.00"}
    body["occurred_at"] = "2026-11-20T12:00:00Z"  # a late report says when it happened
    response = gateway.client.post(f"/v1/customers/{CPF}/outcomes", headers=CRM, json=body)
    assert response.status_code == 202 and response.json() == {"event_id": "ev-1"}
    [request] = gateway.upstream.seen
    assert str(request.url) == "http://127.0.0.1:8005/v1/outcomes"
    assert json.loads(request.content) == {"customer_key": CK, **body}
    assert gateway.audit.records == []


def test_invalid_outcome_is_422_locally(gateway: Gateway) -> None:
    body = {"offer_id": "o-1", "product": "spaceship", "outcome": "accepted"}
    problem = _problem(gateway.client.post(f"/v1/customers/{CK}/outcomes", headers=CRM, json=body), 422)
    assert problem["errors"][0]["field"] == "body.product"
    naive = body | {"product": "savings", "occurred_at": "2026-11-20T12:00:00"}  # no offset: whose noon?
    assert _problem(gateway.client.post(f"/v1/customers/{CK}/outcomes", headers=CRM, json=naive), 422)
    assert gateway.upstream.seen == []


def test_kpis_are_relayed(gateway: Gateway) -> None:
    gateway.upstream.handler = lambda r: httpx.Response(200, json={"offers_made": 10, "acceptance_rate": 0.1})
    response = gateway.client.get("/v1/kpis", headers=MARKETING)
    assert response.json() == {"offers_made": 10, "acceptance_rate": 0.1}
    assert str(gateway.upstream.seen[0].url) == "http://127.0.0.1:8005/v1/kpis"


def test_a_lever_change_is_relayed_with_the_authenticated_actor(gateway: Gateway) -> None:
    gateway.upstream.handler = lambda r: httpx.Response(200, json={"policy_version": "p", "levers": []})
    response = gateway.client.put(
        "/v1/levers/mortgage", headers=MARKETING, json={"lever": 0.5, "reason": "Q3", "actor": "someone-else"}
    )
    assert response.status_code == 200, response.text
    [seen] = gateway.upstream.seen
    assert str(seen.url) == "http://127.0.0.1:8004/v1/levers/mortgage" and seen.method == "PUT"
    assert json.loads(seen.content) == {
        "lever": 0.5,
        "actor": f"marketing:{actor_id('dev-marketing-key')}",
        "reason": "Q3",
    }


# ---- ingest relay --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/consents", "/v1/events:batch"])
def test_ingest_bodies_are_relayed_byte_for_byte(gateway: Gateway, path: str) -> None:
    gateway.upstream.handler = lambda r: httpx.Response(202, json={"accepted": 1, "duplicates": 0})
    raw = b'{"items": [{"document": "123.456.789-09", "x": 1.50}]}'
    headers = {**INGEST, "Content-Type": "application/json; charset=utf-8", "Idempotency-Key": "batch-7"}
    response = gateway.client.post(path, headers=headers, content=raw)
    assert response.status_code == 202 and response.json() == {"accepted": 1, "duplicates": 0}
    [request] = gateway.upstream.seen
    assert str(request.url) == f"http://127.0.0.1:8001{path}"
    assert request.content == raw
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.headers["idempotency-key"] == "batch-7"
    assert "x-api-key" not in request.headers and "authorization" not in request.headers


def test_ingest_rejection_is_passed_through(gateway: Gateway) -> None:
    problem = {"title": "Request validation failed", "status": 422, "errors": [{"field": "items.0"}]}
    gateway.upstream.handler = lambda r: httpx.Response(
        422, json=problem, headers={"content-type": "application/problem+json"}
    )
    response = gateway.client.post("/v1/events:batch", headers=INGEST, content=b"{}")
    assert _problem(response, 422) == problem


def test_oversized_ingest_body_is_413(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.settings import get_settings

    monkeypatch.setattr(get_settings(), "max_ingest_body_bytes", 10)
    _problem(gateway.client.post("/v1/consents", headers=INGEST, content=b"x" * 11), 413)
    assert gateway.upstream.seen == []


# ---- health --------------------------------------------------------------------------------------


def test_upstream_health_is_reported_not_required(gateway: Gateway) -> None:
    import asyncio

    from gateway.api.health import upstreams_check
    from gateway.main import app

    gateway.upstream.handler = lambda r: (
        httpx.Response(200, json={"status": "alive"}) if "8004" in str(r.url) else httpx.Response(503)
    )
    health = app.state.upstream_health
    assert upstreams_check(app) == (True, "not probed yet")
    asyncio.run(health.probe_once())
    ok, detail = upstreams_check(app)
    assert ok and "next-best-action: ok" in detail and "campaigns: http 503" in detail


# ---- every route ---------------------------------------------------------------------------------


def _v1_routes() -> list[tuple[str, str]]:
    """Every /v1 operation the app publishes (from its OpenAPI document), with sample path parameters."""
    from gateway.main import app

    samples = {"customer_id": CK, "action": "pause", "resource": "accounts", "user_id": "u"}
    out = []
    for path, operations in app.openapi()["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for name in ("client_id", "campaign_id", "consent_id", *samples):
            path = path.replace("{" + name + "}", samples.get(name, "c"))
        out += [(method.upper(), path) for method in operations]
    return out


def test_every_route_refuses_anonymous_and_wrong_role_calls(gateway: Gateway) -> None:
    routes = _v1_routes()
    assert len(routes) >= 25
    for method, path in routes:
        anonymous = gateway.client.request(method, path)
        assert anonymous.status_code == 401, (method, path)
        statuses = {
            role: gateway.client.request(method, path, headers={"X-API-Key": f"dev-{role.value}-key"}).status_code
            for role in Role
        }
        assert 403 in statuses.values(), (method, path, statuses)  # some role may not call it
        assert statuses[Role.ADMIN] != 403, (method, path)
