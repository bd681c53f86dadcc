"""Field-level visibility: every customer-facing route × every role, against the one table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.audit import DurableAuditTrail
from gateway.audit.store import SqliteAuditStore
from gateway.domain.roles import Role
from gateway.domain.visibility import Resource, allowed_fields, is_visible, leaf_paths, visible
from gateway.main import app
from tests.unit.gateway.conftest import Gateway

CK = "ck_visibility-walk-customer"
FULL_DECISION = {
    "customer_key": CK,
    "decision_id": "d-1",
    "model_version": "9",
    "decided_at": "2025-01-02T03:04:05Z",
    "objective": "expected_value",
    "offers": [
        {
            "offer_id": "o-1",
            "product": "credit_card",
            "channel": "app_push",
            "propensity": 0.8,
            "expected_value": 120.5,
            "reasons": [{"code": "payroll", "text": "Recibe nómina", "weight": 0.4}],
            "rules_passed": ["consent"],
            "internal_score_debug": {"raw": 1.0},  # a new upstream field nobody has classified yet
        }
    ],
    "blocked": {"mortgage": ["age_band"]},
}
FULL_FEATURES = {
    "customer_key": CK,
    "feature_set_version": "v3",
    "as_of": "2025-01-01T00:00:00Z",
    "features": {"balance_avg_30d": 23_500.0, "spend_groceries_30d": 812.4, "salary_30d": 9000.0},
    "held_products": ["savings"],
    "held_elsewhere": ["credit_card"],
}
KPIS = {"offers_made": 10, "by_product": {"savings": {"offers": 3}}}
DRILL = {
    "dimension": "product",
    "key": "savings",
    "total": 1,
    "page": 1,
    "size": 20,
    "items": [{"customer_key": CK, "offers": 2, "accepted": 1, "last_offer_at": "2025-01-02T03:04:05Z", "debug": 1}],
}
EXPORT = {"customer_key": CK, "consents": [{"id": "c"}], "documents": ["cpf"], "transactions": [{"amount": 1}]}

# (method, path, resource, upstream answer, json body)
ROUTES: list[tuple[str, str, Resource, Any, Any]] = [
    ("GET", f"/v1/customers/{CK}/recommendations", Resource.RECOMMENDATIONS, FULL_DECISION, None),
    ("GET", f"/v1/customers/{CK}/features", Resource.FEATURES, FULL_FEATURES, None),
    ("GET", "/v1/kpis", Resource.KPIS, KPIS, None),
    ("GET", "/v1/kpis/drill?dimension=product&key=savings", Resource.KPI_DRILL, DRILL, None),
    ("POST", "/v1/data-subject/export", Resource.DATA_EXPORT, EXPORT, {"customer_id": CK}),
    ("GET", f"/v1/audit?customer={CK}", Resource.AUDIT, None, None),
]


@pytest.fixture
def walk(gateway: Gateway, tmp_path: Path) -> Gateway:
    store = SqliteAuditStore(tmp_path / "audit.sqlite3")
    app.state.audit = DurableAuditTrail(store)
    return gateway


@pytest.mark.parametrize(("method", "path", "resource", "upstream", "body"), ROUTES, ids=[r[2].value for r in ROUTES])
def test_every_route_and_role_shows_only_the_fields_the_table_allows(
    walk: Gateway, method: str, path: str, resource: Resource, upstream: Any, body: Any
) -> None:
    walk.upstream.handler = lambda r: httpx.Response(200, json=upstream)
    seen_roles = []
    for role in Role:
        response = walk.client.request(method, path, headers={"X-API-Key": f"dev-{role.value}-key"}, json=body)
        if response.status_code in (401, 403):
            assert not allowed_fields(resource, role) or response.status_code == 403, (role, response.text)
            continue
        assert response.status_code == 200, (role, response.text)
        seen_roles.append(role)
        allowed = allowed_fields(resource, role)
        assert allowed, f"{role} reached {resource} but the table gives it no field"
        hidden = {p for p in leaf_paths(response.json()) if not is_visible(p, allowed)}
        assert not hidden, f"{role} sees {sorted(hidden)} on {resource}"
    assert Role.ADMIN in seen_roles


def test_advisors_see_holdings_and_bands_not_the_feature_vector(walk: Gateway) -> None:
    walk.upstream.handler = lambda r: httpx.Response(200, json=FULL_FEATURES)
    body = walk.client.get(f"/v1/customers/{CK}/features", headers={"X-API-Key": "dev-advisor-key"}).json()
    assert body == {
        "customer_key": CK,
        "as_of": "2025-01-01T00:00:00Z",
        "held_products": ["savings"],
        "held_elsewhere": ["credit_card"],
        "balance_band": "10k_50k",
    }
    full = walk.client.get(f"/v1/customers/{CK}/features", headers={"X-API-Key": "dev-dpo-key"}).json()
    assert full["features"]["salary_30d"] == 9000.0 and full["balance_band"] == "10k_50k"


def test_crm_gets_offers_and_reasons_without_model_internals(walk: Gateway) -> None:
    walk.upstream.handler = lambda r: httpx.Response(200, json=FULL_DECISION)
    body = walk.client.get(f"/v1/customers/{CK}/recommendations", headers={"X-API-Key": "dev-crm-key"}).json()
    [offer] = body["recommendations"]
    assert offer == {
        "rank": 1,
        "offer_id": "o-1",
        "product": "credit_card",
        "channel": "app_push",
        "reasons": [{"code": "payroll", "text": "Recibe nómina"}],
    }
    assert "model_version" not in body and "blocked" not in body


def test_unclassified_fields_stay_hidden_and_unknown_roles_see_nothing() -> None:
    assert visible(Resource.RECOMMENDATIONS, Role.ADVISOR, {"new_field": 1, "customer_key": CK}) == {"customer_key": CK}
    assert visible(Resource.FEATURES, Role.MARKETING, FULL_FEATURES) == {}
    assert visible(Resource.FEATURES, Role.ADMIN, FULL_FEATURES) == FULL_FEATURES
