"""Marketing permissions per channel (opt-in / opt-out) and the import of a do-not-contact registry."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from ingest_openfinance.api.body import json_body
from ingest_openfinance.deps import MarketingDep, SettingsDep
from ingest_openfinance.domain.results import BatchResultPublic
from ingest_openfinance.models import MarketingPermissionCreate, MarketingPermissionPublic
from ingest_openfinance.usecases.marketing import MarketingBlocked
from prometeo.contracts.ingest_api import DoNotContactImport
from prometeo.web import Problem
from prometeo.web.openapi import json_body_doc

router = APIRouter(prefix="/v1/marketing", tags=["marketing"])


@router.post("/permissions")
async def set_permission(body: MarketingPermissionCreate, marketing: MarketingDep) -> MarketingPermissionPublic:
    try:
        ck = await run_in_threadpool(marketing.set, body.customer_id, body.channel, body.permission)
    except MarketingBlocked as exc:
        raise Problem(
            409,
            "Registered in a do-not-contact registry",
            f"channel {exc}: the opt-out came from a registry; it ends when the registry entry does",
        ) from exc
    return MarketingPermissionPublic(
        customer_key=ck, channel=body.channel, permission=body.permission, source="customer"
    )


@router.post("/do-not-contact:import", openapi_extra=json_body_doc(DoNotContactImport))
async def import_do_not_contact(request: Request, marketing: MarketingDep, settings: SettingsDep) -> BatchResultPublic:
    """Body `{registry, entries: [{customer_id, channels?}]}`; answered per entry (accepted, duplicate, invalid)."""
    body = await json_body(request, settings.max_body_bytes)
    registry = body.get("registry") if isinstance(body, dict) else None
    entries = body.get("entries") if isinstance(body, dict) else None
    errors = []
    if not isinstance(registry, str) or not 1 <= len(registry) <= 64:
        errors.append({"field": "registry", "message": "required string (1-64 characters), e.g. 'REUS'"})
    if not isinstance(entries, list):
        errors.append({"field": "entries", "message": "required array"})
    if errors or not isinstance(registry, str) or not isinstance(entries, list):  # the types narrow here
        raise Problem(422, "Request validation failed", f"{len(errors)} invalid field(s)", errors=errors)
    if len(entries) > settings.max_batch_items:
        raise Problem(413, "Batch too large", f"at most {settings.max_batch_items} entries per import")
    results = await run_in_threadpool(marketing.import_do_not_contact, registry, entries)
    return BatchResultPublic.of(results)
