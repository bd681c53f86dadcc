"""Consents, account events, Open Finance resources, aggregator webhooks and marketing permissions
from bank cores and aggregators, relayed byte for byte to ingest-openfinance, which validates and
pseudonymises them. The source's customer identifier travels in `X-Customer-Id`, never in a URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from gateway.deps import IngestWriter, SettingsDep, UpstreamsDep
from gateway.upstream import Upstream
from prometeo.contracts.ingest_api import (
    BrasilResource,
    ConsentCreate,
    ConsentStatusChange,
    DoNotContactImport,
    EventsBatchCreate,
    MarketingPermissionCreate,
    UkResource,
)
from prometeo.web import Problem
from prometeo.web.openapi import header_doc, json_body_doc

router = APIRouter(prefix="/v1", tags=["ingest"])

_RELAYED_REQUEST_HEADERS = ("content-type", "idempotency-key", "x-customer-id", "x-institution", "x-account-id")


_CUSTOMER = header_doc("X-Customer-Id", "The source's customer identifier (kept out of URLs and logs)", max_length=64)
_INSTITUTION = header_doc("X-Institution", "The transmitting institution", required=True, max_length=128)
_ACCOUNT = header_doc("X-Account-Id", "The accountId of the resource's path (balances, transactions)", max_length=100)


def _relayed(
    status: int,
    answer: str,
    model: type[BaseModel] | None = None,
    *,
    body: str = "",
    headers: tuple[dict[str, Any], ...] = (),
) -> dict[str, Any]:
    """Route options of a relay: the body ingest validates (same schema as ingest's), its headers, its answer."""
    extra = json_body_doc(model, description=body)
    if headers:
        extra["parameters"] = list(headers)
    return {
        "response_class": Response,
        "status_code": status,
        "responses": {status: {"description": answer, "content": {"application/json": {"schema": {"type": "object"}}}}},
        "openapi_extra": extra,
    }


_PER_ITEM = "Answered per item by ingest-openfinance (accepted, duplicate, invalid, refused)"


async def _relay(request: Request, upstreams: UpstreamsDep, settings: SettingsDep, path: str) -> Response:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.max_ingest_body_bytes:
        raise Problem(413, "Payload too large", f"at most {settings.max_ingest_body_bytes} bytes per request")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > settings.max_ingest_body_bytes:
            raise Problem(413, "Payload too large", f"at most {settings.max_ingest_body_bytes} bytes per request")
    headers = {name: request.headers[name] for name in _RELAYED_REQUEST_HEADERS if name in request.headers}
    upstream = await upstreams.call(Upstream.INGEST, "POST", path, content=bytes(body), headers=headers)
    return Response(
        upstream.content,
        status_code=upstream.status_code,
        media_type=upstream.headers.get("content-type", "application/json"),
    )


@router.post("/consents", **_relayed(201, "Consent registered (its pseudonymous customer key)", ConsentCreate))
async def post_consents(_: IngestWriter, request: Request, upstreams: UpstreamsDep, settings: SettingsDep) -> Response:
    return await _relay(request, upstreams, settings, "/v1/consents")


@router.post("/events:batch", **_relayed(200, _PER_ITEM, EventsBatchCreate))
async def post_events_batch(
    _: IngestWriter, request: Request, upstreams: UpstreamsDep, settings: SettingsDep
) -> Response:
    return await _relay(request, upstreams, settings, "/v1/events:batch")


@router.post("/consents/{consent_id}/status", **_relayed(200, "Consent status changed", ConsentStatusChange))
async def post_consent_status(
    consent_id: str, _: IngestWriter, request: Request, upstreams: UpstreamsDep, settings: SettingsDep
) -> Response:
    return await _relay(request, upstreams, settings, f"/v1/consents/{quote(consent_id, safe='')}/status")


@router.post(
    "/openfinance/brasil/consents",
    **_relayed(
        200, "Consent registered", body="The GET /consents/{consentId} response", headers=(_CUSTOMER, _INSTITUTION)
    ),
)
async def post_openfinance_brasil_consent(
    _: IngestWriter, request: Request, upstreams: UpstreamsDep, settings: SettingsDep
) -> Response:
    return await _relay(request, upstreams, settings, "/v1/openfinance/brasil/consents")


@router.post(
    "/openfinance/brasil/{resource}",
    **_relayed(200, _PER_ITEM, body="The resource's GET response", headers=(_CUSTOMER, _INSTITUTION, _ACCOUNT)),
)
async def post_openfinance_brasil(
    resource: BrasilResource, _: IngestWriter, request: Request, upstreams: UpstreamsDep, settings: SettingsDep
) -> Response:
    return await _relay(request, upstreams, settings, f"/v1/openfinance/brasil/{quote(resource, safe='')}")


@router.post(
    "/openbanking/uk/account-access-consents",
    **_relayed(
        200,
        "Consent registered",
        body="The GET /account-access-consents/{ConsentId} response",
        headers=(_CUSTOMER, _INSTITUTION),
    ),
)
async def post_openbanking_uk_consent(
    _: IngestWriter, request: Request, upstreams: UpstreamsDep, settings: SettingsDep
) -> Response:
    return await _relay(request, upstreams, settings, "/v1/openbanking/uk/account-access-consents")


@router.post(
    "/openbanking/uk/{resource}",
    **_relayed(200, _PER_ITEM, body="The resource's GET response", headers=(_CUSTOMER, _INSTITUTION)),
)
async def post_openbanking_uk(
    resource: UkResource, _: IngestWriter, request: Request, upstreams: UpstreamsDep, settings: SettingsDep
) -> Response:
    return await _relay(request, upstreams, settings, f"/v1/openbanking/uk/{quote(resource, safe='')}")


@router.post("/webhooks/belvo", **_relayed(200, _PER_ITEM, body="A Belvo webhook notification"))
async def post_belvo_webhook(
    _: IngestWriter, request: Request, upstreams: UpstreamsDep, settings: SettingsDep
) -> Response:
    return await _relay(request, upstreams, settings, "/v1/webhooks/belvo")


@router.post("/marketing/permissions", **_relayed(200, "Permission recorded", MarketingPermissionCreate))
async def post_marketing_permissions(
    _: IngestWriter, request: Request, upstreams: UpstreamsDep, settings: SettingsDep
) -> Response:
    return await _relay(request, upstreams, settings, "/v1/marketing/permissions")


@router.post("/marketing/do-not-contact:import", **_relayed(200, _PER_ITEM, DoNotContactImport))
async def post_do_not_contact_import(
    _: IngestWriter, request: Request, upstreams: UpstreamsDep, settings: SettingsDep
) -> Response:
    return await _relay(request, upstreams, settings, "/v1/marketing/do-not-contact:import")
