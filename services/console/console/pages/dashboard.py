"""Marketing's dashboard: KPIs, breakdowns with drill-down, advisor adherence, campaign funnel, experiment."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from console.deps import GatewayDep, LocaleDep, SessionDep
from console.domain.i18n import Translator
from console.domain.views import (
    DIMENSIONS,
    PERIODS,
    DrillList,
    dashboard_view,
    drill_list,
    drill_view,
    held_together_view,
    over_time_view,
)
from console.gateway import Gateway, GatewayError
from console.render import is_htmx, render

router = APIRouter()


async def _campaign_ids(gateway: Gateway, token: str, session_runs_campaigns: bool) -> list[str]:
    if not session_runs_campaigns:
        return []
    body = await gateway.get(token, "/v1/campaigns")
    return [c["campaign_id"] for c in body.get("campaigns", [])]


@router.get("/dashboard")
async def dashboard(
    request: Request,
    session: SessionDep,
    gateway: GatewayDep,
    locale: LocaleDep,
    dimension: str = Query("product", max_length=20),
    campaign: str = Query("", max_length=64),
    period: int = Query(30, ge=1, le=366),
) -> Response:
    dimension = dimension if dimension in DIMENSIONS else "product"
    period = period if period in PERIODS else 30
    kpis = await gateway.get(session.token, "/v1/kpis")
    series = await gateway.get(session.token, "/v1/kpis/series", {"days": period})
    defined = sorted(await _campaign_ids(gateway, session.token, session.runs_campaigns))
    ids = sorted(set(defined) | set((kpis.get("by_campaign") or {}).keys()))
    # A marketer's own campaign first (the always-on stream's id has no definition, and seldom a holdout).
    chosen = campaign or next(iter(defined or ids), "")
    experiment: dict[str, Any] | None = None
    if chosen:
        try:
            experiment = await gateway.get(session.token, f"/v1/experiments/{chosen}")
        except GatewayError as exc:
            if exc.status != 404:
                raise
    view = dashboard_view(kpis, dimension, chosen or None, ids, experiment, Translator(locale))
    template = "_parts/dashboard_body.html" if is_htmx(request) else "dashboard.html"
    matrix = held_together_view(kpis, Translator(locale))
    over_time = over_time_view(series, period, Translator(locale))
    return render(request, template, locale, session, view=view, matrix=matrix, over_time=over_time)


@router.get("/dashboard/drill")
async def drill(
    request: Request,
    session: SessionDep,
    gateway: GatewayDep,
    locale: LocaleDep,
    dimension: str = Query("product", max_length=20),
    key: str = Query(..., max_length=64),
    page: int = Query(1, ge=1, le=10_000),
) -> Response:
    dimension = dimension if dimension in DIMENSIONS else "product"
    t = Translator(locale)
    kpis = await gateway.get(session.token, "/v1/kpis")
    title, rows = drill_view(kpis, dimension, key, t)
    customers: DrillList | None = None
    try:  # the gateway lists the customers only to the roles allowed to see them (pseudonymous for marketing)
        body = await gateway.get(session.token, "/v1/kpis/drill", {"dimension": dimension, "key": key, "page": page})
        customers = drill_list(body, t)
    except GatewayError as exc:
        if exc.status != 403:
            raise
    return render(
        request,
        "_parts/drill.html",
        locale,
        session,
        title=title,
        rows=rows,
        customers=customers,
        dimension=dimension,
        key=key,
    )
