"""Campaigns without JSON: the list, a form to create and launch one, pause and resume."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from console.deps import GatewayDep, LocaleDep, SessionDep
from console.domain import campaign_form
from console.domain.i18n import Translator
from console.domain.views import CHANNELS, PRODUCTS, preview_view
from console.gateway import GatewayError
from console.pages.forms import first, form_fields
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
async def campaigns(
    request: Request,
    session: SessionDep,
    gateway: GatewayDep,
    locale: LocaleDep,
    launched: str = Query("", max_length=64),
) -> Response:
    return await _page(request, session, gateway, locale, message=launched or None)


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
    # Post/redirect/get: reloading the list never launches the campaign twice.
    return RedirectResponse(f"/campaigns?launched={quote(str(created['campaign_id']))}", status_code=303)


@router.post("/campaigns/preview")
async def preview(request: Request, session: SessionDep, gateway: GatewayDep, locale: LocaleDep) -> Response:
    """The form as it stands, asked before launch: audience, contactable, expected conversions (htmx fragment)."""
    fields = await form_fields(request)
    # An id and a name are not needed to count an audience: placeholders let a half-filled form be previewed.
    for name, placeholder in (("campaign_id", "preview"), ("name", "preview")):
        if not first(fields, name):
            fields[name] = [placeholder]
    t = Translator(locale)
    try:
        counts = await gateway.post(session.token, "/v1/campaigns:preview", campaign_form.definition(fields))
    except campaign_form.FormError as exc:
        return render(request, "_parts/campaign_preview.html", locale, session, error=str(exc))
    except GatewayError as exc:
        if exc.status in (400, 422):
            return render(request, "_parts/campaign_preview.html", locale, session, error=exc.detail or exc.title)
        raise
    return render(request, "_parts/campaign_preview.html", locale, session, preview=preview_view(counts, t))


@router.post("/campaigns/{campaign_id}/{action}")
async def change(
    campaign_id: str, action: str, request: Request, session: SessionDep, gateway: GatewayDep, locale: LocaleDep
) -> Response:
    if action not in ("pause", "resume"):
        raise Problem(404, "Not found")
    await gateway.post(session.token, f"/v1/campaigns/{quote(campaign_id, safe='')}/{action}")
    return RedirectResponse("/campaigns", status_code=303)
