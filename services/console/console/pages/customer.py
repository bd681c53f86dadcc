"""The customer 360, and recording an offer's outcome in one click."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.deps import GatewayDep, LocaleDep, SessionDep
from console.domain.i18n import Translator
from console.domain.views import customer_view
from console.pages.forms import first, form_fields
from console.render import render
from prometeo.web import Problem

router = APIRouter()

# A click → what the gateway records. "Call back later" is a contact that reached the customer without a
# decision: recorded as delivered (the platform has no call-back outcome); a decline carries its reason.
CLICKS = {"accepted": "accepted", "declined": "declined", "callback": "delivered"}
DECLINE_REASONS = ("price", "not_needed", "has_it", "timing")


@router.get("/customers/{customer_key}")
async def customer(
    customer_key: str, request: Request, session: SessionDep, gateway: GatewayDep, locale: LocaleDep
) -> Response:
    body = await gateway.get(session.token, f"/v1/customers/{customer_key}/overview", {"lang": locale.reason_lang})
    view = customer_view(body, Translator(locale))
    return render(request, "customer.html", locale, session, view=view, decline_reasons=DECLINE_REASONS)


@router.post("/customers/{customer_key}/outcomes")
async def record_outcome(
    customer_key: str, request: Request, session: SessionDep, gateway: GatewayDep, locale: LocaleDep
) -> Response:
    fields = await form_fields(request)
    click = first(fields, "click")
    if click not in CLICKS:
        raise Problem(422, "Unknown outcome", "accepted, declined or callback", field="click")
    body = {
        "offer_id": first(fields, "offer_id"),
        "product": first(fields, "product"),
        "outcome": CLICKS[click],
        "channel": "advisor",
    }
    reason = first(fields, "reason")
    if click == "declined" and reason in DECLINE_REASONS:
        body["reason"] = reason
    await gateway.post(session.token, f"/v1/customers/{customer_key}/outcomes", body)
    return render(request, "_parts/outcome.html", locale, session, click=click)
