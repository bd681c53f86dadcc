"""Campaigns without JSON: the list, a form to create and launch one, pause and resume."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.deps import GatewayDep, LocaleDep, SessionDep
from console.domain import campaign_form
from console.domain.views import CHANNELS, PRODUCTS
from console.gateway import GatewayError
from console.pages.forms import form_fields
from console.render import render
from prometeo import clock
from prometeo.web import Problem

router = APIRouter()


async def _page(
    request: Request,
    session: SessionDep,
    gateway: GatewayDep,
    locale: LocaleDep,
    *,
    status_code: int = 200,
    message: str | None = None,
    error: str | None = None,
) -> Response:
    body = await gateway.get(session.token, "/v1/campaigns")
    kpis = await gateway.get(session.token, "/v1/kpis")
    today = clock.now().date()
    return render(
        request,
        "campaigns.html",
        locale,
        session,
        status_code=status_code,
        rows=campaign_form.rows(body),
        products=PRODUCTS,
        channels=CHANNELS,
        fields=campaign_form.RULE_FIELDS,
        ops=campaign_form.OPS,
        max_rules=campaign_form.MAX_RULES,
        max_steps=campaign_form.MAX_STEPS,
        starts=today.isoformat(),
        ends=(today + timedelta(days=28)).isoformat(),
        known=int(kpis.get("customers_known", 0)),
        message=message,
        error=error,
    )


@router.get("/campaigns")
async def campaigns(request: Request, session: SessionDep, gateway: GatewayDep, locale: LocaleDep) -> Response:
    return await _page(request, session, gateway, locale)


@router.post("/campaigns")
async def launch(request: Request, session: SessionDep, gateway: GatewayDep, locale: LocaleDep) -> Response:
    fields = await form_fields(request)
    try:
        definition = campaign_form.definition(fields)
        created = await gateway.post(session.token, "/v1/campaigns", definition)
    except campaign_form.FormError as exc:
        return await _page(request, session, gateway, locale, status_code=422, error=str(exc))
    except GatewayError as exc:
        if exc.status in (400, 409, 422):
            return await _page(request, session, gateway, locale, status_code=422, error=exc.detail or exc.title)
        raise
    return await _page(request, session, gateway, locale, message=created["campaign_id"])


@router.post("/campaigns/{campaign_id}/{action}")
async def change(
    campaign_id: str, action: str, request: Request, session: SessionDep, gateway: GatewayDep, locale: LocaleDep
) -> Response:
    if action not in ("pause", "resume"):
        raise Problem(404, "Not found")
    await gateway.post(session.token, f"/v1/campaigns/{campaign_id}/{action}")
    return await _page(request, session, gateway, locale)
