"""The console's pure parts: language choice, locale formatting, reason texts, the campaign form, views."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from console.domain import campaign_form
from console.domain.formatting import money, percent
from console.domain.i18n import CATALOGUES, Locale, Translator, negotiate
from console.domain.reasons import localized, talking_points, to_portuguese
from console.domain.session import read_session
from console.domain.views import customer_view, dashboard_view, today_view


@pytest.mark.parametrize(
    ("chosen", "header", "expected"),
    [
        (None, "pt-BR,pt;q=0.9,en;q=0.8", Locale.PT_BR),
        (None, "en-US,en;q=0.9", Locale.EN),
        (None, "fr-FR, en;q=0.5, es;q=0.7", Locale.ES),  # q-values, not order
        (None, None, Locale.ES),
        ("en", "pt-BR", Locale.EN),  # the person's choice wins
        ("xx", "pt-BR", Locale.PT_BR),
    ],
)
def test_language_is_the_persons_choice_else_the_browsers(
    chosen: str | None, header: str | None, expected: Locale
) -> None:
    assert negotiate(chosen, header) is expected


def test_every_catalogue_has_the_same_keys() -> None:
    keys = {loc: set(json.loads((CATALOGUES / f"{loc.value}.json").read_text())) for loc in Locale}
    assert keys[Locale.ES] == keys[Locale.EN] == keys[Locale.PT_BR]


def test_money_is_written_as_each_locale_writes_it() -> None:
    assert money(1234.56, Locale.PT_BR) == "R$ 1.234,56"
    assert money(1234.56, Locale.ES) == "R$ 1.234,56"
    assert money(1234.56, Locale.EN) == "R$1,234.56"
    assert money(Decimal("-1000000"), Locale.EN, 0) == "-R$1,000,000"
    assert percent(0.1234, Locale.PT_BR) == "12,3 %"


def test_reason_texts_reach_portuguese_with_their_figures() -> None:
    assert to_portuguese("gastó R$ 1.234 en viajes en los últimos 30 días") == (
        "gastou R$ 1.234 em viagens nos últimos 30 dias"
    )
    assert to_portuguese("tiene tarjeta de crédito en otra institución") == (
        "tem cartão de crédito em outra instituição"
    )
    unknown = "una frase que la tabla no conoce"
    assert to_portuguese(unknown) == unknown
    assert localized("spent R$ 1,234 on travel", Locale.EN) == "spent R$ 1,234 on travel"


def test_talking_points_open_with_the_reason_and_close_with_an_ask() -> None:
    t = Translator(Locale.EN)
    points = talking_points("savings", ["idle_balance", "unknown_code"], t)
    assert points[0].startswith("Point out") and points[-1] == t("talk.close") and len(points) == 3


def _token(claims: dict[str, object]) -> str:
    import base64

    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"e30.{body}.sig"


def test_the_session_is_read_from_the_token_and_ends_with_it() -> None:
    token = _token({"sub": "ana.advisor", "name": "Ana", "roles": ["advisor"], "portfolio": "adv-sp-01", "exp": 100})
    session = read_session(token, now=50)
    assert session is not None and session.role == "advisor" and session.home == "/today"
    assert read_session(token, now=100) is None
    assert read_session("not-a-token", now=0) is None


def test_the_campaign_form_becomes_a_definition() -> None:
    form = {
        "campaign_id": ["card-push"],
        "name": ["Card"],
        "product": ["credit_card"],
        "channels": ["email", "sms"],
        "starts": ["2026-12-01"],
        "ends": ["2026-12-31"],
        "budget": ["300"],
        "holdout": ["20"],
        "rule1_field": ["segment.digital_archetype"],
        "rule1_op": ["eq"],
        "rule1_value": ["activated"],
        "rule2_field": ["scores.credit_card"],
        "rule2_op": ["gte"],
        "rule2_value": ["0,3"],
        "step1_channel": ["email"],
        "step1_wait": ["3"],
        "step2_channel": ["sms"],
        "step2_wait": ["3"],
    }
    body = campaign_form.definition(form)
    assert body["control_share"] == pytest.approx(0.2)
    assert body["target"]["all"] == [
        {"field": "segment.digital_archetype", "op": "eq", "value": "activated"},
        {"field": "scores.credit_card", "op": "gte", "value": 0.3},
    ]
    first, second = body["sequence"]["steps"]
    assert first["timeout"] == {"after_days": 3.0, "unless": ["clicked"], "goto": second["id"]}
    assert "timeout" not in second
    # The campaigns API's own model accepts it.
    from campaigns.domain.campaign import CampaignDefinition

    CampaignDefinition.model_validate(body)
    with pytest.raises(campaign_form.FormError):
        campaign_form.definition({**form, "step1_channel": ["whatsapp"]})


def test_views_localise_products_reasons_and_amounts() -> None:
    t = Translator(Locale.PT_BR)
    today = today_view(
        {
            "total": 41,
            "page": 2,
            "size": 20,
            "items": [
                {
                    "customer_key": "ck_abcdefghijklmnop",
                    "segment": "activated",
                    "product": "savings",
                    "channel": "advisor",
                    "expected_value": 1234.5,
                    "reason": {"code": "travel_spend", "text": "gastó R$ 900 en viajes en los últimos 30 días"},
                }
            ],
        },
        {"product": "savings"},
        t,
    )
    assert today.pages == 3 and today.offset == 20
    row = today.rows[0]
    assert (row.product, row.value, row.segment) == ("Poupança", "R$ 1.234,50", "Digital ativo")
    assert row.why == "gastou R$ 900 em viagens nos últimos 30 dias"
    view = customer_view(
        {
            "customer_key": "ck_abcdefghijklmnop",
            "held_products": ["credit_card"],
            "held_elsewhere": ["mortgage"],
            "balance_band": "10k_50k",
            "trend": {"balance_growth_pct_90d": 4.0},
            "spend_mix": {"travel": {"last_30d": 0.5, "prior_monthly": 0.25}},
            "permissions": ["email"],
            "recommendations": {"recommendations": [], "blocked": {"mortgage": ["held_elsewhere"]}},
            "contacts": [],
        },
        Translator(Locale.EN),
    )
    assert view.held_elsewhere == ["Mortgage"] and view.blocked == [("Mortgage", "held elsewhere")]
    assert view.spend.series[0]["data"] == [50.0]
    board = dashboard_view(
        {"outcomes": {"accepted": 3}, "by_product": {"savings": {"offers": 10, "conversion_rate": 0.3}}},
        "product",
        None,
        [],
        None,
        Translator(Locale.ES),
    )
    assert board.breakdown.labels == ["Cuenta de ahorro"] and board.breakdown.series[0]["data"] == [30.0]
