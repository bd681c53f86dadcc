"""Every screen renders from the gateway's answers (a MockTransport gateway): sign-in, today, the 360, an
outcome, the dashboard with a drill-down, campaigns, the language switch, and the error screens."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from fastapi.testclient import TestClient

from console.gateway import Gateway
from console.main import app
from console.settings import get_settings
from prometeo import clock


def _token(role: str, **claims: Any) -> str:
    body = {"sub": f"{role}.user", "name": f"{role} user", "roles": [role], "exp": clock.now().timestamp() + 600}
    payload = base64.urlsafe_b64encode(json.dumps(body | claims).encode()).decode().rstrip("=")
    return f"e30.{payload}.sig"


DECISION: dict[str, Any] = {
    "customer_key": "ck_abcdefgh",
    "decision_id": "dc_1",
    "generated_at": "2026-12-01T10:00:00Z",
    "recommendations": [
        {
            "rank": 1,
            "offer_id": "of_1",
            "product": "savings",
            "channel": "advisor",
            "propensity": 0.31,
            "expected_value": 1234.5,
            "reasons": [{"code": "idle_balance", "text": "mantiene R$ 8.000 ociosos en la cuenta"}],
        }
    ],
    "blocked": {"mortgage": ["credit_risk"]},
}
KPIS: dict[str, Any] = {
    "offers_made": 10,
    "outcomes": {"accepted": 2, "delivered": 8},
    "acceptance_rate": 0.2,
    "contact_rate": 0.8,
    "products_per_customer": 1.5,
    "multi_product_customers": 4,
    "revenue_accepted_brl": "1234.56",
    "advisor_adherence": 0.5,
    "by_product": {"savings": {"offers": 10, "contacts": 8, "outcomes": {"accepted": 2}, "conversion_rate": 0.2}},
    "by_channel": {},
    "by_segment": {},
    "by_campaign": {"spring": {"offers": 5, "outcomes": {"delivered": 5, "opened": 3, "clicked": 1}}},
    "by_advisor": {"adv-sp-01": {"adherence": 0.5}},
    "held_together": {
        "savings": {"savings": 1200, "credit_card": 300},
        "credit_card": {"credit_card": 600, "savings": 300},
    },
}


def _series(days: int) -> dict[str, Any]:
    """Campaigns' KPI series: the last day has 4 offers, 1 accepted (R$ 99.50), the others nothing."""
    start = date(2026, 12, 1) - timedelta(days=days - 1)
    zero = {"offers": 0, "contacts": 0, "accepted": 0, "declined": 0, "revenue_brl": "0"}
    rates = {"contact_rate": 0.0, "conversion_rate": 0.0, "acceptance_rate": 0.0}
    points = [{"day": (start + timedelta(days=n)).isoformat(), **zero, **rates} for n in range(days)]
    points[-1] |= {"offers": 4, "contacts": 3, "accepted": 1, "declined": 1, "revenue_brl": "99.50"}
    points[-1] |= {"contact_rate": 0.75, "conversion_rate": 0.25, "acceptance_rate": 0.5}
    return {"days": days, "timezone": "America/Sao_Paulo", "points": points}


class FakeGateway:
    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []
        self.role = "advisor"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.seen.append(request)
        path = request.url.path
        if path == "/oidc/token":
            form = parse_qs(request.content.decode())
            if form["password"] != ["right"]:
                return httpx.Response(400, json={"title": "Token request refused", "error": "invalid_grant"})
            return httpx.Response(200, json={"access_token": _token(self.role, portfolio="adv-sp-01")})
        if path == "/v1/portfolio/priorities":
            item = {**DECISION["recommendations"][0], "customer_key": "ck_abcdefgh", "segment": "activated"}
            item["reason"] = item.pop("reasons")[0]
            return httpx.Response(200, json={"total": 1, "page": 1, "size": 20, "items": [item]})
        if path == "/v1/customers/ck_outside/overview":
            return httpx.Response(404, json={"title": "Customer not found"})
        if path.endswith("/overview"):
            body = {
                "customer_key": "ck_abcdefgh",
                "held_products": ["payroll_account"],
                "held_elsewhere": ["credit_card"],
                "balance_band": "1k_10k",
                "trend": {"balance_growth_pct_90d": 3.0},
                "spend_mix": {"travel": {"last_30d": 0.6, "prior_monthly": 0.4}},
                "permissions": ["email", "sms"],
                "contacts": [{"product": "savings", "channel": "email", "decided_at": "2026-11-30T10:00:00Z"}],
                "recommendations": DECISION,
            }
            return httpx.Response(200, json=body)
        if path.endswith("/outcomes"):
            return httpx.Response(202, json={"event_id": "ev_1"})
        if path == "/v1/kpis":
            return httpx.Response(200, json=KPIS)
        if path == "/v1/kpis/series":
            days = int(request.url.params.get("days", "30"))
            return httpx.Response(200, json=_series(days))
        if path == "/v1/kpis/drill":
            if self.role not in ("marketing", "analyst", "admin", "dpo"):
                return httpx.Response(403, json={"title": "Forbidden"})
            page = int(request.url.params.get("page", "1"))
            item = {
                "customer_key": f"ck_bar{page:02d}",
                "offers": 3,
                "accepted": 1,
                "last_offer_at": "2026-11-30T10:00:00Z",
            }
            return httpx.Response(200, json={"total": 21, "page": page, "size": 20, "items": [item]})
        if path == "/v1/campaigns" and request.method == "GET":
            return httpx.Response(
                200, json={"campaigns": [{"campaign_id": "spring", "name": "S", "product": "savings", "active": True}]}
            )
        if path == "/v1/campaigns:preview":
            counts = {"scanned": 4200, "matching": 1500, "contactable": 1234, "entering": 100}
            return httpx.Response(200, json=counts | {"expected_conversions": 17.25})
        if path == "/v1/campaigns":
            return httpx.Response(201, json=json.loads(request.content))
        if path.startswith("/v1/experiments/"):
            group = {"offers": 100, "conversions": 10, "conversion_rate": 0.1}
            lift = {"absolute": 0.05, "relative": 1.0, "ci95_low": 0.01, "ci95_high": 0.09, "z": 2.1, "p_value": 0.03}
            return httpx.Response(
                200,
                json={
                    "test": group,
                    "control": {**group, "conversion_rate": 0.05},
                    "lift": lift | {"significant": True},
                },
            )
        if path.endswith("/pause"):
            return httpx.Response(200, json={})
        return httpx.Response(404, json={"title": "Not found"})


@pytest.fixture
def fake() -> Iterator[tuple[TestClient, FakeGateway]]:
    get_settings.cache_clear()
    gw = FakeGateway()
    app.state.gateway = Gateway(httpx.AsyncClient(base_url="http://gateway", transport=httpx.MockTransport(gw)))
    app.state.gateway_url = "http://gateway"
    yield TestClient(app, follow_redirects=False), gw
    get_settings.cache_clear()


def _signed_in(client: TestClient, gw: FakeGateway, role: str = "advisor") -> TestClient:
    gw.role = role
    r = client.post("/signin", data={"username": "u", "password": "right"})
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" in cookie
    client.cookies.set("prometeo_session", r.cookies["prometeo_session"])
    return client


def test_sign_in_refused_then_accepted(fake: tuple[TestClient, FakeGateway]) -> None:
    client, gw = fake
    r = client.post("/signin", data={"username": "u", "password": "wrong"}, headers={"Accept-Language": "en"})
    assert r.status_code == 401 and "Unknown user or wrong password." in r.text
    _signed_in(client, gw)
    assert client.get("/").headers["location"] == "/today"


def test_pages_need_a_session(fake: tuple[TestClient, FakeGateway]) -> None:
    client, _ = fake
    r = client.get("/today")
    assert r.status_code == 303 and r.headers["location"] == "/signin?expired=true"
    assert client.get("/today", headers={"HX-Request": "true"}).headers["hx-redirect"] == "/signin?expired=true"


def test_today_and_the_360_in_portuguese(fake: tuple[TestClient, FakeGateway]) -> None:
    client, gw = _signed_in(*fake), fake[1]
    headers = {"Accept-Language": "pt-BR"}
    today = client.get("/today?channel=advisor", headers=headers)
    assert today.status_code == 200
    assert "Poupança" in today.text and "R$ 1.234,50" in today.text
    assert "mantém R$ 8.000 parados na conta" in today.text
    call = next(r for r in gw.seen if r.url.path == "/v1/portfolio/priorities")
    assert call.url.params["channel"] == "advisor" and call.url.params["lang"] == "es"
    assert call.headers["authorization"].startswith("Bearer e30.")
    partial = client.get("/today", headers={**headers, "HX-Request": "true"})
    assert "<html" not in partial.text and 'data-testid="priorities"' in partial.text
    page = client.get("/customers/ck_abcdefgh", headers=headers)
    assert page.status_code == 200
    for text in ("Cartão de crédito", "risco de crédito", "E-mail, SMS", "Pontos para a conversa"):
        assert text in page.text, text


def test_an_outcome_in_one_click(fake: tuple[TestClient, FakeGateway]) -> None:
    client, gw = _signed_in(*fake), fake[1]
    form = {"offer_id": "of_1", "product": "savings", "click": "declined", "reason": "price"}
    r = client.post("/customers/ck_abcdefgh/outcomes", data=form, headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'data-testid="recorded"' in r.text
    sent = json.loads(gw.seen[-1].content)
    assert sent == {
        "offer_id": "of_1",
        "product": "savings",
        "outcome": "declined",
        "channel": "advisor",
        "reason": "price",
    }
    client.post("/customers/ck_abcdefgh/outcomes", data={**form, "click": "callback"})
    assert json.loads(gw.seen[-1].content)["outcome"] == "delivered"


def test_outside_the_portfolio_reads_as_not_found(fake: tuple[TestClient, FakeGateway]) -> None:
    client = _signed_in(*fake)
    r = client.get("/customers/ck_outside", headers={"Accept-Language": "en"})
    assert r.status_code == 404 and "Not found, or not in your portfolio." in r.text


def test_dashboard_drill_down_and_experiment(fake: tuple[TestClient, FakeGateway]) -> None:
    client = _signed_in(*fake, role="marketing")
    r = client.get("/dashboard?campaign=spring", headers={"Accept-Language": "en"})
    assert r.status_code == 200
    for text in ("R$1,234.56", "Delivered → Opened: 60.0 %", "[1.00 %; 9.00 %]", "significant"):
        assert text in r.text, text
    # Products held together: aggregate counts, the largest first, shaded by share of the largest pair.
    assert 'data-testid="held-together"' in r.text and "Savings account and Credit card: 300 customers" in r.text
    assert "1,200" in r.text and "--heat: 0.25" in r.text and "--heat: 1.0" in r.text
    es = client.get("/dashboard", headers={"Accept-Language": "es"})
    assert "Productos que se tienen juntos" in es.text and "1.200" in es.text
    drill = client.get("/dashboard/drill?dimension=product&key=savings", headers={"Accept-Language": "en"})
    assert "Savings account" in drill.text and "20.0 %" in drill.text
    # The customers behind the bar: pseudonymous keys, paged; no link to a 360 marketing may not open.
    assert "Customers behind it: 21" in drill.text and "ck_bar01" in drill.text and "Page 1 of 2" in drill.text
    assert "/customers/ck_bar01" not in drill.text and 'data-testid="drill-next"' in drill.text
    second = client.get("/dashboard/drill?dimension=product&key=savings&page=2", headers={"Accept-Language": "pt-BR"})
    assert "ck_bar02" in second.text and "Clientes por trás: 21" in second.text
    asked = [r.url.params for r in fake[1].seen if r.url.path == "/v1/kpis/drill"]
    assert asked[-1]["dimension"] == "product" and asked[-1]["key"] == "savings" and asked[-1]["page"] == "2"


def test_campaign_form_launches_and_pauses(fake: tuple[TestClient, FakeGateway]) -> None:
    client, gw = _signed_in(*fake, role="marketing"), fake[1]
    form = {
        "campaign_id": "card-push",
        "name": "Card",
        "product": "credit_card",
        "channels": ["email", "sms"],
        "starts": "2026-12-01",
        "ends": "2026-12-31",
        "budget": "100",
        "holdout": "10",
        "step1_channel": "email",
        "step1_wait": "3",
        "step2_channel": "sms",
    }
    r = client.post("/campaigns", data=form)
    assert r.status_code == 303 and r.headers["location"] == "/campaigns?launched=card-push"
    created = json.loads(next(x for x in gw.seen if x.method == "POST" and x.url.path == "/v1/campaigns").content)
    assert created["control_share"] == pytest.approx(0.1) and len(created["sequence"]["steps"]) == 2
    assert "card-push" in client.get("/campaigns?launched=card-push").text
    assert client.post("/campaigns/spring/pause").headers["location"] == "/campaigns"
    bad = client.post("/campaigns", data={**form, "channels": []})
    assert bad.status_code == 422 and "channels" in bad.text


def test_the_campaign_form_previews_audience_and_expected_conversions(fake: tuple[TestClient, FakeGateway]) -> None:
    client, gw = _signed_in(*fake, role="marketing"), fake[1]
    form = {
        "product": "credit_card",
        "channels": ["email"],
        "starts": "2026-12-01",
        "ends": "2026-12-31",
        "budget": "100",
        "holdout": "20",
        "rule1_field": "segment.digital_archetype",
        "rule1_op": "eq",
        "rule1_value": "activated",
        "step1_channel": "email",
    }
    page = client.get("/campaigns", headers={"Accept-Language": "en"})
    assert 'hx-post="/campaigns/preview"' in page.text
    r = client.post("/campaigns/preview", data=form, headers={"Accept-Language": "pt-BR", "HX-Request": "true"})
    assert r.status_code == 200, r.text
    for text in ("Conversões esperadas", "17,3", "1.234", "1.500", "4.200 clientes"):
        assert text in r.text, text
    [asked] = [x for x in gw.seen if x.url.path == "/v1/campaigns:preview"]
    body = json.loads(asked.content)
    assert body["campaign_id"] == "preview" and body["control_share"] == pytest.approx(0.2)
    assert body["target"]["all"] == [{"field": "segment.digital_archetype", "op": "eq", "value": "activated"}]
    assert not [x for x in gw.seen if x.url.path == "/v1/campaigns" and x.method == "POST"]  # nothing launched
    bad = client.post("/campaigns/preview", data={**form, "channels": []}, headers={"Accept-Language": "en"})
    assert bad.status_code == 200 and 'data-testid="preview-error"' in bad.text


def test_the_language_switch_is_remembered(fake: tuple[TestClient, FakeGateway]) -> None:
    client = _signed_in(*fake)
    r = client.post("/language", data={"lang": "en", "next": "https://evil.example/"})
    assert r.headers["location"] == "/" and "prometeo_lang=en" in r.headers["set-cookie"]
    client.cookies.set("prometeo_lang", "en")
    assert 'lang="en"' in client.get("/today", headers={"Accept-Language": "pt-BR"}).text


def test_the_dashboard_draws_kpis_over_time_for_the_period_chosen(fake: tuple[TestClient, FakeGateway]) -> None:
    client = _signed_in(*fake, role="marketing")
    r = client.get("/dashboard", headers={"Accept-Language": "en"})
    assert r.status_code == 200
    assert 'data-chart="line"' in r.text and 'id="over-rates-data"' in r.text and 'id="over-volumes-data"' in r.text
    assert "Last 30 days: 4 offers, 1 accepted, R$99.50 revenue." in r.text
    rates = json.loads(r.text.split('id="over-rates-data">')[1].split("</script>")[0])
    assert len(rates["labels"]) == 30 and [s["data"][-1] for s in rates["series"]] == [25.0, 50.0, 75.0]
    assert [s["label"] for s in rates["series"]] == ["Conversion", "Accepted of answers", "Contact rate"]
    volumes = json.loads(r.text.split('id="over-volumes-data">')[1].split("</script>")[0])
    assert volumes["series"][2]["axis"] == "y1" and volumes["series"][2]["data"][-1] == 99.5
    # The period filter: 7 / 30 / 90 days, through htmx (the board only), in each language; nothing else asked.
    week = client.get("/dashboard?period=7", headers={"Accept-Language": "pt-BR", "HX-Request": "true"})
    assert "Taxas por dia, últimos 7 dias" in week.text and "<html" not in week.text
    es = client.get("/dashboard?period=90", headers={"Accept-Language": "es"})
    assert "Últimos 90 días" in es.text and 'value="90" selected' in es.text
    odd = client.get("/dashboard?period=12", headers={"Accept-Language": "en"})
    assert "Last 30 days: 4 offers" in odd.text
    asked = [r.url.params["days"] for r in fake[1].seen if r.url.path == "/v1/kpis/series"]
    assert asked == ["30", "7", "90", "30"]


def test_the_dashboard_opens_on_a_defined_campaign_before_the_always_on_stream(
    fake: tuple[TestClient, FakeGateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    by_campaign = {"nba-always-on": {"offers": 50, "outcomes": {}}, **KPIS["by_campaign"]}
    monkeypatch.setitem(KPIS, "by_campaign", by_campaign)
    client = _signed_in(*fake, role="marketing")
    assert client.get("/dashboard", headers={"Accept-Language": "en"}).status_code == 200
    asked = [x.url.path for x in fake[1].seen if x.url.path.startswith("/v1/experiments/")]
    assert asked == ["/v1/experiments/spring"]  # "nba-always-on" sorts first, but has no definition
