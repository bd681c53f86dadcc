"""Consents, account events, Open Finance resources, aggregator webhooks and marketing permissions
from bank cores and aggregators, relayed byte for byte to ingest-openfinance, which validates and
pseudonymises them. The source's customer identifier travels in `X-Customer-Id`, never in a URL."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from gateway.deps import IngestWriter, SettingsDep, UpstreamsDep
from gateway.upstream import Upstream
from prometeo.web import Problem

router = APIRouter(prefix="/v1", tags=["ingest"])

_RELAYED_REQUEST_HEADERS = ("content-type", "idempotency-key", "x-customer-id", "x-institution", "x-account-id")


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


@router.post("/consents", response_class=Response, responses={202: {"description": "Accepted by ingest"}})
async def post_consents(_: IngestWriter, request: Request, upstreams: UpstreamsDep, settings: SettingsDep) -> Response:
    return await _relay(request, upstreams, settings, "/v1/consents")


@router.post("/events:batch", response_class=Response, responses={202: {"description": "Accepted by ingest"}})
async def post_events_batch(
    _: IngestWriter, request: Request, upstreams: UpstreamsDep, settings: SettingsDep
) -> Response:
    return await _relay(request, upstreams, settings, "/v1/events:batch")


@router.post("/consents/{consent_id}/status", response_class=Response)
async def post_consent_status(
    consent_id: str, _: IngestWriter, request: Request, upstreams: UpstreamsDep, settings: SettingsDep
) -> Response:
    return await _relay(request, upstreams, settings, f"/v1/consents/{quote(consent_id, safe='')}/status")


@router.post("/openfinance/brasil/{resource}", response_class=Response)
async def post_openfinance_brasil(
    resource: str, _: IngestWriter, request: Request, upstreams: UpstreamsDep, settings: SettingsDep
) -> Response:
    return await _relay(request, upstreams, settings, f"/v1/openfinance/brasil/{quote(resource, safe='')}")


@router.post("/openbanking/uk/{resource}", response_class=Response)
async def post_openbanking_uk(
    resource: str, _: IngestWriter, request: Request, upstreams: UpstreamsDep, settings: SettingsDep
) -> Response:
    return await _relay(request, upstreams, settings, f"/v1/openbanking/uk/{quote(resource, safe='')}")


@router.post("/webhooks/belvo", response_class=Response)
async def post_belvo_webhook(
    _: IngestWriter, request: Request, upstreams: UpstreamsDep, settings: SettingsDep
) -> Response:
    return await _relay(request, upstreams, settings, "/v1/webhooks/belvo")


@router.post("/marketing/permissions", response_class=Response)
async def post_marketing_permissions(
    _: IngestWriter, request: Request, upstreams: UpstreamsDep, settings: SettingsDep
) -> Response:
    return await _relay(request, upstreams, settings, "/v1/marketing/permissions")


@router.post("/marketing/do-not-contact:import", response_class=Response)
async def post_do_not_contact_import(
    _: IngestWriter, request: Request, upstreams: UpstreamsDep, settings: SettingsDep
) -> Response:
    return await _relay(request, upstreams, settings, "/v1/marketing/do-not-contact:import")
