"""Consents and account events from bank cores and aggregators, relayed byte for byte to
ingest-openfinance, which validates and pseudonymises them."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from prometeo.web import Problem

from gateway.deps import IngestWriter, SettingsDep, UpstreamsDep
from gateway.upstream import Upstream

router = APIRouter(prefix="/v1", tags=["ingest"])

_RELAYED_REQUEST_HEADERS = ("content-type", "idempotency-key")


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
async def post_consents(
    _: IngestWriter, request: Request, upstreams: UpstreamsDep, settings: SettingsDep
) -> Response:
    return await _relay(request, upstreams, settings, "/v1/consents")


@router.post("/events:batch", response_class=Response, responses={202: {"description": "Accepted by ingest"}})
async def post_events_batch(
    _: IngestWriter, request: Request, upstreams: UpstreamsDep, settings: SettingsDep
) -> Response:
    return await _relay(request, upstreams, settings, "/v1/events:batch")
