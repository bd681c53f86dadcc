"""The routes the console needs: a portfolio ranked by the best offer, and one customer's 360."""

from __future__ import annotations

import httpx
import pytest

from gateway.domain.audit import AuditedResource
from gateway.main import app
from gateway.portfolios import Member, PortfolioReader
from tests.unit.gateway.conftest import Gateway

ADMIN = {"X-API-Key": "dev-admin-key"}
ADVISOR = {"X-API-Key": "dev-advisor-key"}


class FakePortfolios(PortfolioReader):
    def __init__(self, members: dict[str, list[Member]]) -> None:
        self._members = members

    async def members(self, *, advisor_id: str | None = None, branch_id: str | None = None) -> list[Member]:
        return self._members.get(advisor_id or branch_id or "", [])


def _offer(product: str, channel: str, value: float) -> dict[str, object]:
    return {
        "offer_id": f"of_{product}",
        "product": product,
        "channel": channel,
        "propensity": 0.2,
        "expected_value": value,
        "reasons": [{"code": "idle_balance", "text": f"why {product}", "weight": 0.1}],
        "rules_passed": ["in_policy"],
    }


def _decision(ck: str, offers: list[dict[str, object]]) -> dict[str, object]:
    return {
        "customer_key": ck,
        "decision_id": "dc_1",
        "model_version": "7",
        "decided_at": "2026-12-01T10:00:00Z",
        "objective": "expected_value",
        "offers": offers,
        "blocked": {"mortgage": ["credit_risk"]},
    }


@pytest.fixture
def portfolio(gateway: Gateway) -> Gateway:
    members = [Member(f"ck_member{i:02d}", "activated" if i % 2 else "nascent") for i in range(5)]
    app.state.portfolios = FakePortfolios({"adv-1": members})
    app.state.priority_cache = None
    previews = {
        "ck_member00": [_offer("savings", "email", 50.0), _offer("credit_card", "advisor", 90.0)],
        "ck_member01": [_offer("savings", "advisor", 120.0)],
        "ck_member02": [],
        "ck_member03": [_offer("investment_fund", "sms", 10.0)],
    }

    def handler(request: httpx.Request) -> httpx.Response:
        ck = request.url.path.rsplit("/", 1)[-1]
        if ck not in previews:
            return httpx.Response(404, json={"title": "Customer not found"})
        return httpx.Response(200, json=_decision(ck, previews[ck]))

    gateway.upstream.handler = handler
    return gateway


def test_the_portfolio_is_ranked_by_the_best_offers_expected_value(portfolio: Gateway) -> None:
    r = portfolio.client.get("/v1/portfolio/priorities", params={"portfolio": "adv-1"}, headers=ADMIN)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 3  # no offer, no scores: not listed
    assert [(i["customer_key"], i["product"], i["expected_value"]) for i in body["items"]] == [
        ("ck_member01", "savings", 120.0),
        ("ck_member00", "credit_card", 90.0),
        ("ck_member03", "investment_fund", 10.0),
    ]
    assert body["items"][0]["reason"] == {"code": "idle_balance", "text": "why savings"}
    assert all(req.method == "GET" for req in portfolio.upstream.seen)  # previews: nothing is presented
    (entry,) = portfolio.audit.entries
    assert entry.resource == "portfolio" and "ck_member01" in (entry.detail or "")


def test_filters_and_pages_come_from_the_cached_ranking(portfolio: Gateway) -> None:
    get = portfolio.client.get
    r = get("/v1/portfolio/priorities", params={"portfolio": "adv-1", "channel": "advisor"}, headers=ADMIN)
    assert [i["customer_key"] for i in r.json()["items"]] == ["ck_member01", "ck_member00"]
    calls = len(portfolio.upstream.seen)
    r = get("/v1/portfolio/priorities", params={"portfolio": "adv-1", "segment": "nascent"}, headers=ADMIN)
    assert [i["customer_key"] for i in r.json()["items"]] == ["ck_member00"]
    r = get("/v1/portfolio/priorities", params={"portfolio": "adv-1", "size": 1, "page": 2}, headers=ADMIN)
    assert [i["customer_key"] for i in r.json()["items"]] == ["ck_member00"] and r.json()["total"] == 3
    assert len(portfolio.upstream.seen) == calls


def test_a_list_names_its_portfolio(portfolio: Gateway) -> None:
    assert portfolio.client.get("/v1/portfolio/priorities", headers=ADMIN).status_code == 422
    # A dev key is not a person: it has no portfolio of its own.
    assert portfolio.client.get("/v1/portfolio/priorities", headers=ADVISOR).status_code == 403
    assert (
        portfolio.client.get("/v1/portfolio/priorities", headers={"X-API-Key": "dev-marketing-key"}).status_code == 403
    )


def _overview_handler(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.startswith("/v1/features/"):
        features = {
            "balance_avg_30d": 12_000.0,
            "balance_growth_pct_90d": 8.0,
            "spend_travel_30d": 300.0,
            "spend_travel_90d": 500.0,
            "spend_groceries_30d": 100.0,
            "spend_groceries_90d": 700.0,
        }
        body = {
            "customer_key": "ck_x",
            "feature_set_version": "v1",
            "as_of": "2026-12-01T09:00:00Z",
            "features": features,
            "held_products": ["payroll_account"],
            "held_elsewhere": ["mortgage"],
        }
        return httpx.Response(200, json=body)
    if path.endswith("/permissions"):
        return httpx.Response(200, json={"customer_key": "ck_x", "channels": ["email"]})
    if path.endswith("/presentations"):
        return httpx.Response(200, json=_decision("ck_x", [_offer("savings", "advisor", 40.0)]))
    if path.startswith("/v1/offers/"):
        offer = {"offer_id": "of_1", "product": "savings", "channel": "email", "decided_at": "2026-11-20T10:00:00Z"}
        return httpx.Response(200, json={"customer_key": "ck_x", "offers": [{**offer, "status": "delivered"}]})
    return httpx.Response(404, json={"title": "no"})


def test_the_customer_360_in_one_call_filtered_by_role_and_audited(gateway: Gateway) -> None:
    gateway.upstream.handler = _overview_handler
    r = gateway.client.get("/v1/customers/ck_abcdef123/overview", params={"lang": "en"}, headers=ADVISOR)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["held_elsewhere"] == ["mortgage"] and body["balance_band"] == "10k_50k"
    assert body["permissions"] == ["email"] and body["contacts"][0]["status"] == "delivered"
    assert body["recommendations"]["blocked"] == {"mortgage": ["credit_risk"]}
    assert body["spend_mix"]["travel"] == {"last_30d": 0.75, "prior_monthly": 0.25}
    assert body["trend"]["spend_change_pct"] == pytest.approx(0.0)  # R$ 400 this month, R$ 400 a month before
    assert "amounts" not in body  # an advisor sees ratios and bands, not amounts
    admin = gateway.client.get("/v1/customers/ck_abcdef123/overview", headers=ADMIN).json()
    assert admin["amounts"]["balance_avg_30d"] == 12_000.0
    assert [rec[2] for rec in gateway.audit.records] == [AuditedResource.CUSTOMER_360] * 2


def test_marketing_never_reads_one_customer(gateway: Gateway) -> None:
    gateway.upstream.handler = _overview_handler
    r = gateway.client.get("/v1/customers/ck_abcdef123/overview", headers={"X-API-Key": "dev-marketing-key"})
    assert r.status_code == 403


def test_the_customers_behind_a_dashboard_bar_are_pseudonymous_paged_and_audited(gateway: Gateway) -> None:
    asked: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url)
        item = {"customer_key": "ck_bar01", "offers": 2, "accepted": 1, "last_offer_at": "2026-12-01T10:00:00Z"}
        return httpx.Response(
            200,
            json={"dimension": "channel", "key": "e mail", "total": 21, "page": 2, "size": 20, "items": [item]},
        )

    gateway.upstream.handler = handler
    params = {"dimension": "channel", "key": "e mail", "page": "2"}
    r = gateway.client.get("/v1/kpis/drill", params=params, headers={"X-API-Key": "dev-marketing-key"})
    assert r.status_code == 200, r.text
    assert r.json()["items"] == [
        {"customer_key": "ck_bar01", "offers": 2, "accepted": 1, "last_offer_at": "2026-12-01T10:00:00Z"}
    ]
    assert asked[0].raw_path.startswith(b"/v1/kpis/channel/e%20mail/customers?") and asked[0].params["page"] == "2"
    (entry,) = gateway.audit.entries
    assert entry.resource == "kpi_drill" and entry.role == "marketing" and "ck_bar01" in (entry.detail or "")
    for role in ("advisor", "branch_manager"):
        denied = gateway.client.get("/v1/kpis/drill", params=params, headers={"X-API-Key": f"dev-{role}-key"})
        assert denied.status_code == 403 and denied.headers["content-type"] == "application/problem+json"
    bad = gateway.client.get("/v1/kpis/drill", params={"dimension": "advisor", "key": "x"}, headers=ADMIN)
    assert bad.status_code == 422


def test_a_campaign_preview_is_relayed_for_marketing_only(gateway: Gateway) -> None:
    asked: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        counts = {"scanned": 9, "matching": 4, "contactable": 3, "entering": 3, "expected_conversions": 0.7}
        return httpx.Response(200, json=counts)

    gateway.upstream.handler = handler
    body = {"campaign_id": "card-push", "product": "credit_card"}
    r = gateway.client.post("/v1/campaigns:preview", json=body, headers={"X-API-Key": "dev-marketing-key"})
    assert r.status_code == 200 and r.json()["contactable"] == 3
    assert asked[0].method == "POST" and asked[0].url.path == "/v1/campaigns:preview"
    assert asked[0].content and b"card-push" in asked[0].content
    denied = gateway.client.post("/v1/campaigns:preview", json=body, headers=ADVISOR)
    assert denied.status_code == 403


def test_the_kpi_series_is_relayed_to_the_kpi_readers_only(gateway: Gateway) -> None:
    asked: list[httpx.URL] = []
    body = {"days": 7, "timezone": "America/Sao_Paulo", "points": []}

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url)
        return httpx.Response(200, json=body)

    gateway.upstream.handler = handler
    for role in ("marketing", "analyst", "branch_manager"):
        r = gateway.client.get("/v1/kpis/series", params={"days": "7"}, headers={"X-API-Key": f"dev-{role}-key"})
        assert r.status_code == 200 and r.json() == body, (role, r.text)
    assert {(u.path, u.params["days"]) for u in asked} == {("/v1/kpis/series", "7")}
    denied = gateway.client.get("/v1/kpis/series", headers={"X-API-Key": "dev-dpo-key"})
    assert denied.status_code == 403 and denied.headers["content-type"] == "application/problem+json"
    assert gateway.client.get("/v1/kpis/series", params={"days": "0"}, headers=ADMIN).status_code == 422
