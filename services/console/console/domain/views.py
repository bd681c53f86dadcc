"""View models: what each screen shows, shaped from the gateway's answers in the reader's language.
Pure: gateway JSON and a translator in, pydantic models out (templates only place them)."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel

from console.domain import formatting as fmt
from console.domain.i18n import Translator
from console.domain.reasons import localized, talking_points

PRODUCTS = (
    "payroll_account",
    "savings",
    "credit_card",
    "personal_loan",
    "auto_loan",
    "mortgage",
    "auto_insurance",
    "life_insurance",
    "home_insurance",
    "investment_fund",
)
CHANNELS = ("email", "sms", "whatsapp", "app_push", "in_app", "advisor")
SEGMENTS = ("nascent", "experimenting", "emerging", "activated")


class Option(BaseModel):
    value: str
    label: str
    selected: bool = False


def options(prefix: str, values: tuple[str, ...], chosen: str | None, t: Translator) -> list[Option]:
    return [Option(value=v, label=t(f"{prefix}.{v}"), selected=v == chosen) for v in values]


def short_key(customer_key: str) -> str:
    return customer_key[:11] + "…" if len(customer_key) > 12 else customer_key


# ---- today ------------------------------------------------------------------------------------------------


class PriorityRow(BaseModel):
    customer_key: str
    short_key: str
    segment: str
    product: str
    channel: str
    value: str
    why: str


class TodayView(BaseModel):
    rows: list[PriorityRow]
    total: int
    page: int
    pages: int
    offset: int
    products: list[Option]
    channels: list[Option]
    segments: list[Option]
    query: dict[str, str]


def today_view(body: dict[str, Any], filters: dict[str, str], t: Translator) -> TodayView:
    loc = t.locale
    rows = [
        PriorityRow(
            customer_key=item["customer_key"],
            short_key=short_key(item["customer_key"]),
            segment=t(f"segment.{item['segment']}") if item.get("segment") else "—",
            product=t(f"product.{item['product']}"),
            channel=t(f"channel.{item['channel']}"),
            value=fmt.money(item.get("expected_value"), loc),
            why=localized(item["reason"]["text"], loc) if item.get("reason") else "—",
        )
        for item in body.get("items", [])
    ]
    size = max(int(body.get("size", 20)), 1)
    return TodayView(
        rows=rows,
        total=int(body.get("total", 0)),
        page=int(body.get("page", 1)),
        pages=max(1, math.ceil(int(body.get("total", 0)) / size)),
        offset=(int(body.get("page", 1)) - 1) * size,
        products=options("product", PRODUCTS, filters.get("product"), t),
        channels=options("channel", CHANNELS, filters.get("channel"), t),
        segments=options("segment", SEGMENTS, filters.get("segment"), t),
        query={k: v for k, v in filters.items() if v},
    )


# ---- customer 360 -----------------------------------------------------------------------------------------


class OfferCard(BaseModel):
    offer_id: str
    product_code: str
    product: str
    channel_code: str
    channel: str
    value: str
    propensity: str
    reasons: list[str]
    talking_points: list[str]


class ContactRow(BaseModel):
    date: str
    product: str
    channel: str
    status: str
    outcomes: str


class ChartData(BaseModel):
    labels: list[str]
    series: list[dict[str, Any]]


class CustomerView(BaseModel):
    customer_key: str
    short_key: str
    held_here: list[str]
    held_elsewhere: list[str]
    balance_band: str
    trend: ChartData
    spend: ChartData
    offers: list[OfferCard]
    blocked: list[tuple[str, str]]
    permitted: list[str]
    contacts: list[ContactRow]


def _status(status: str | None, t: Translator) -> str:
    if not status:
        return "—"
    return t(f"outcome.kind.{status}") if t.has(f"outcome.kind.{status}") else status


def customer_view(body: dict[str, Any], t: Translator) -> CustomerView:
    loc = t.locale
    recs = body.get("recommendations") or {}
    offers = [
        OfferCard(
            offer_id=o["offer_id"],
            product_code=o["product"],
            product=t(f"product.{o['product']}"),
            channel_code=o["channel"],
            channel=t(f"channel.{o['channel']}"),
            value=fmt.money(o.get("expected_value"), loc),
            propensity=fmt.percent(o.get("propensity"), loc),
            reasons=[localized(r["text"], loc) for r in o.get("reasons", [])],
            talking_points=talking_points(o["product"], [r["code"] for r in o.get("reasons", [])], t),
        )
        for o in recs.get("recommendations", [])[:3]
    ]
    trend = body.get("trend") or {}
    trend_chart = ChartData(
        labels=[t("customer.trend.balance"), t("customer.trend.salary"), t("customer.trend.spend")],
        series=[
            {
                "label": "%",
                "data": [
                    trend.get("balance_growth_pct_90d"),
                    trend.get("salary_raise_pct"),
                    trend.get("spend_change_pct"),
                ],
            }
        ],
    )
    mix = body.get("spend_mix") or {}
    cats = sorted(mix, key=lambda c: -mix[c].get("last_30d", 0.0))
    spend_chart = ChartData(
        labels=[t(f"category.{c}") for c in cats],
        series=[
            {"label": t("customer.spend.last"), "data": [round(mix[c]["last_30d"] * 100, 1) for c in cats]},
            {"label": t("customer.spend.prior"), "data": [round(mix[c]["prior_monthly"] * 100, 1) for c in cats]},
        ],
    )
    blocked = [
        (t(f"product.{product}"), ", ".join(t(f"rule.{r}") for r in rules))
        for product, rules in sorted((recs.get("blocked") or {}).items())
    ]
    contacts = [
        ContactRow(
            date=fmt.date(c.get("decided_at"), loc),
            product=t(f"product.{c['product']}"),
            channel=t(f"channel.{c['channel']}"),
            status=_status(c.get("status"), t),
            outcomes=", ".join(t(f"outcome.kind.{o}") for o in c.get("outcomes") or []) or "—",
        )
        for c in body.get("contacts", [])[:20]
    ]
    band = body.get("balance_band")
    return CustomerView(
        customer_key=body["customer_key"],
        short_key=short_key(body["customer_key"]),
        held_here=[t(f"product.{p}") for p in body.get("held_products", [])],
        held_elsewhere=[t(f"product.{p}") for p in body.get("held_elsewhere", [])],
        balance_band=t(f"band.{band}") if band else "—",
        trend=trend_chart,
        spend=spend_chart,
        offers=offers,
        blocked=blocked,
        permitted=[t(f"channel.{c}") for c in body.get("permissions", [])],
        contacts=contacts,
    )


# ---- dashboard --------------------------------------------------------------------------------------------


class Tile(BaseModel):
    label: str
    value: str
    testid: str


class DashboardView(BaseModel):
    tiles: list[Tile]
    dimension: str
    dimension_label: str
    dimensions: list[Option]
    breakdown: ChartData
    adherence: ChartData
    campaigns: list[Option]
    funnel: ChartData | None
    funnel_rates: list[str]
    experiment: dict[str, Any] | None


DIMENSIONS = ("product", "channel", "segment", "campaign")


def _label(dimension: str, key: str, t: Translator) -> str:
    if dimension in ("product", "channel", "segment") and t.has(f"{dimension}.{key}"):
        return t(f"{dimension}.{key}")
    return key


def dashboard_view(
    kpis: dict[str, Any],
    dimension: str,
    campaign: str | None,
    campaign_ids: list[str],
    experiment: dict[str, Any] | None,
    t: Translator,
) -> DashboardView:
    loc = t.locale
    accepted = int((kpis.get("outcomes") or {}).get("accepted", 0))
    tiles = [
        Tile(label=t("kpi.offers"), value=fmt.number(kpis.get("offers_made", 0), loc), testid="offers"),
        Tile(label=t("kpi.accepted"), value=fmt.number(accepted, loc), testid="accepted"),
        Tile(label=t("kpi.acceptance"), value=fmt.percent(kpis.get("acceptance_rate"), loc), testid="acceptance"),
        Tile(label=t("kpi.contact_rate"), value=fmt.percent(kpis.get("contact_rate"), loc), testid="contact-rate"),
        Tile(
            label=t("kpi.products_per_customer"),
            value=fmt.number(kpis.get("products_per_customer", 0), loc, 2),
            testid="products-per-customer",
        ),
        Tile(
            label=t("kpi.multi_product"),
            value=fmt.number(kpis.get("multi_product_customers", 0), loc),
            testid="multi-product",
        ),
        Tile(
            label=t("kpi.revenue"), value=fmt.money(float(kpis.get("revenue_accepted_brl", 0)), loc), testid="revenue"
        ),
        Tile(label=t("kpi.adherence"), value=fmt.percent(kpis.get("advisor_adherence"), loc), testid="adherence"),
    ]
    segments: dict[str, dict[str, Any]] = kpis.get(f"by_{dimension}") or {}
    keys = sorted(segments, key=lambda k: -int(segments[k].get("offers", 0)))
    breakdown = ChartData(
        labels=[_label(dimension, k, t) for k in keys],
        series=[
            {
                "label": t("kpi.conversion"),
                "data": [round(float(segments[k].get("conversion_rate", 0)) * 100, 2) for k in keys],
                "keys": keys,
            }
        ],
    )
    advisors: dict[str, dict[str, Any]] = kpis.get("by_advisor") or {}
    adherence = ChartData(
        labels=sorted(advisors),
        series=[
            {
                "label": t("kpi.adherence"),
                "data": [round(float(advisors[a].get("adherence", 0)) * 100, 1) for a in sorted(advisors)],
            }
        ],
    )
    funnel, rates = None, []
    if campaign:
        outcomes = ((kpis.get("by_campaign") or {}).get(campaign) or {}).get("outcomes") or {}
        stages = ("delivered", "opened", "clicked", "accepted")
        counts = [int(outcomes.get(s, 0)) for s in stages]
        labels = [t(f"outcome.kind.{s}") for s in stages]
        funnel = ChartData(labels=labels, series=[{"label": campaign, "data": counts}])
        rates = [
            f"{t(f'outcome.kind.{stages[i]}')} → {t(f'outcome.kind.{stages[i + 1]}')}: "
            + fmt.percent(counts[i + 1] / counts[i] if counts[i] else None, loc)
            for i in range(len(stages) - 1)
        ]
    return DashboardView(
        tiles=tiles,
        dimension=dimension,
        dimension_label=t(f"dashboard.dim.{dimension}"),
        dimensions=[Option(value=d, label=t(f"dashboard.dim.{d}"), selected=d == dimension) for d in DIMENSIONS],
        breakdown=breakdown,
        adherence=adherence,
        campaigns=[Option(value=c, label=c, selected=c == campaign) for c in campaign_ids],
        funnel=funnel,
        funnel_rates=rates,
        experiment=experiment_view(experiment, t) if experiment else None,
    )


PERIODS = (7, 30, 90)  # the dashboard's period filter, in business days


class OverTime(BaseModel):
    """The KPI series as two line charts: rates (%) and volumes (offers, accepted; revenue on its own axis)."""

    days: int
    periods: list[Option]
    rates: ChartData
    volumes: ChartData
    summary: str  # what the charts show, for screen readers and the table-minded


def over_time_view(body: dict[str, Any], days: int, t: Translator) -> OverTime:
    loc = t.locale
    points: list[dict[str, Any]] = body.get("points") or []
    labels = [fmt.date(p["day"], loc) for p in points]

    def pct(field: str) -> list[float]:
        return [round(float(p.get(field, 0)) * 100, 2) for p in points]

    rates = ChartData(
        labels=labels,
        series=[
            {"label": t("kpi.conversion"), "data": pct("conversion_rate")},
            {"label": t("kpi.acceptance_answers"), "data": pct("acceptance_rate")},
            {"label": t("kpi.contact_rate"), "data": pct("contact_rate")},
        ],
    )
    volumes = ChartData(
        labels=labels,
        series=[
            {"label": t("kpi.offers"), "data": [int(p.get("offers", 0)) for p in points]},
            {"label": t("kpi.accepted"), "data": [int(p.get("accepted", 0)) for p in points]},
            {"label": t("kpi.revenue"), "data": [float(p.get("revenue_brl", 0)) for p in points], "axis": "y1"},
        ],
    )
    offers = sum(int(p.get("offers", 0)) for p in points)
    accepted = sum(int(p.get("accepted", 0)) for p in points)
    revenue = sum(float(p.get("revenue_brl", 0)) for p in points)
    summary = t(
        "dashboard.over_time.summary",
        days=days,
        offers=fmt.number(offers, loc),
        accepted=fmt.number(accepted, loc),
        revenue=fmt.money(revenue, loc),
    )
    periods = [Option(value=str(d), label=t("dashboard.period.days", days=d), selected=d == days) for d in PERIODS]
    return OverTime(days=days, periods=periods, rates=rates, volumes=volumes, summary=summary)


def experiment_view(body: dict[str, Any], t: Translator) -> dict[str, Any]:
    loc = t.locale
    lift = body.get("lift")
    test, control = body.get("test") or {}, body.get("control") or {}
    return {
        "test_rate": fmt.percent(test.get("conversion_rate"), loc, 2),
        "control_rate": fmt.percent(control.get("conversion_rate"), loc, 2),
        "test_n": fmt.number(test.get("offers", 0), loc),
        "control_n": fmt.number(control.get("offers", 0), loc),
        "lift": fmt.percent(lift["absolute"], loc, 2) if lift else "—",
        "ci": (f"[{fmt.percent(lift['ci95_low'], loc, 2)}; {fmt.percent(lift['ci95_high'], loc, 2)}]" if lift else "—"),
        "significant": t("dashboard.significant" if lift and lift.get("significant") else "dashboard.not_significant"),
        "chart": {
            "labels": [t("dashboard.test"), t("dashboard.control")],
            "rates": [
                round(float(test.get("conversion_rate", 0)) * 100, 3),
                round(float(control.get("conversion_rate", 0)) * 100, 3),
            ],
            "ci": [round(lift["ci95_low"] * 100, 3), round(lift["ci95_high"] * 100, 3)] if lift else None,
            "lift": round(lift["absolute"] * 100, 3) if lift else None,
        },
    }


class DrillRow(BaseModel):
    label: str
    value: str


def drill_view(kpis: dict[str, Any], dimension: str, key: str, t: Translator) -> tuple[str, list[DrillRow]]:
    loc = t.locale
    seg = (kpis.get(f"by_{dimension}") or {}).get(key) or {}
    rows = [
        DrillRow(label=t("kpi.offers"), value=fmt.number(seg.get("offers", 0), loc)),
        DrillRow(label=t("kpi.contacts"), value=fmt.number(seg.get("contacts", 0), loc)),
        *[
            DrillRow(label=t(f"outcome.kind.{k}"), value=fmt.number(v, loc))
            for k, v in sorted((seg.get("outcomes") or {}).items())
        ],
        DrillRow(label=t("kpi.conversion"), value=fmt.percent(seg.get("conversion_rate"), loc)),
        DrillRow(label=t("kpi.revenue"), value=fmt.money(float(seg.get("revenue_brl", 0)), loc)),
    ]
    return _label(dimension, key, t), rows


class DrillCustomer(BaseModel):
    customer_key: str
    offers: str
    accepted: str
    last_offer: str


class DrillList(BaseModel):
    """The customers behind a bar, one page (customer keys only: the gateway decides what a role sees)."""

    customers: list[DrillCustomer]
    total: str
    page: int
    pages: int


def drill_list(body: dict[str, Any], t: Translator) -> DrillList:
    loc = t.locale
    size = max(1, int(body.get("size", 20)))
    return DrillList(
        customers=[
            DrillCustomer(
                customer_key=str(i.get("customer_key", "")),
                offers=fmt.number(i.get("offers", 0), loc),
                accepted=fmt.number(i.get("accepted", 0), loc),
                last_offer=fmt.date(i.get("last_offer_at"), loc),
            )
            for i in body.get("items", [])
        ],
        total=fmt.number(int(body.get("total", 0)), loc),
        page=int(body.get("page", 1)),
        pages=max(1, math.ceil(int(body.get("total", 0)) / size)),
    )


class MatrixCell(BaseModel):
    value: str
    heat: float  # 0..1 of the largest pair, for the cell's shade
    label: str  # "<row> + <column>: <count>" for a screen reader


class MatrixRow(BaseModel):
    label: str
    cells: list[MatrixCell]


class HeldTogether(BaseModel):
    """Products held together: customers holding both of a pair now (aggregate counts, nobody named)."""

    columns: list[str]
    rows: list[MatrixRow]


def held_together_view(kpis: dict[str, Any], t: Translator) -> HeldTogether | None:
    matrix: dict[str, dict[str, int]] = kpis.get("held_together") or {}
    products = sorted(matrix, key=lambda p: (-int(matrix[p].get(p, 0)), p))
    if not products:
        return None
    names = {p: _label("product", p, t) for p in products}
    top = max((int(v) for row in matrix.values() for k, v in row.items()), default=0) or 1
    rows = []
    for a in products:
        cells = []
        for b in products:
            count = int(matrix.get(a, {}).get(b, 0))
            cells.append(
                MatrixCell(
                    value=fmt.number(count, t.locale),
                    heat=round(count / top, 2),
                    label=t("dashboard.held_together.cell", a=names[a], b=names[b], n=fmt.number(count, t.locale)),
                )
            )
        rows.append(MatrixRow(label=names[a], cells=cells))
    return HeldTogether(columns=[names[p] for p in products], rows=rows)


class CampaignPreview(BaseModel):
    matching: str
    contactable: str
    entering: str
    expected: str
    scanned: str


def preview_view(counts: dict[str, Any], t: Translator) -> CampaignPreview:
    loc = t.locale
    return CampaignPreview(
        matching=fmt.number(int(counts.get("matching", 0)), loc),
        contactable=fmt.number(int(counts.get("contactable", 0)), loc),
        entering=fmt.number(int(counts.get("entering", 0)), loc),
        expected=fmt.number(float(counts.get("expected_conversions", 0.0)), loc, 1),
        scanned=fmt.number(int(counts.get("scanned", 0)), loc),
    )
