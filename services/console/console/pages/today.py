"""The advisor's "today": the portfolio's customers ranked by the expected value of their best offer."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from console.deps import GatewayDep, LocaleDep, SessionDep, SettingsDep
from console.domain.i18n import Translator
from console.domain.views import today_view
from console.render import is_htmx, render

router = APIRouter()


@router.get("/today")
async def today(
    request: Request,
    session: SessionDep,
    gateway: GatewayDep,
    locale: LocaleDep,
    settings: SettingsDep,
    product: str = Query("", max_length=40),
    channel: str = Query("", max_length=40),
    segment: str = Query("", max_length=40),
    page: int = Query(1, ge=1, le=1000),
    portfolio: str = Query("", max_length=64),
) -> Response:
    filters = {"product": product, "channel": channel, "segment": segment}
    params = {**filters, "page": page, "size": settings.page_size, "lang": locale.reason_lang}
    if session.role in ("dpo", "admin"):
        params["portfolio"] = portfolio or "adv-sp-01"
    body = await gateway.get(session.token, "/v1/portfolio/priorities", params)
    view = today_view(body, filters, Translator(locale))
    template = "_parts/today_rows.html" if is_htmx(request) else "today.html"
    return render(request, template, locale, session, view=view)
