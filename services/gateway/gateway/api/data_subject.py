"""Data-subject requests (LGPD art. 18, LFPDPPP ARCO, Ley 1581, Ley 25.326): access/portability,
rectification, erasure and objection to profiling, for the DPO and admins. The identifier travels in the
body so it never lands in a URL, an access log or a trace.

Access assembles one document from every service's internal export (`GET /internal/v1/customers/{ck}/
export`, each service answering for its own data; nobody reads another service's Redis) plus the
gateway's own part: the customer's scope, the audit records of who read their data and the requests
they made. Every request is logged with its legal deadline (the customer's jurisdiction) and outcome,
listable by the DPO at `GET /v1/data-subject/requests`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, Field

from gateway.audit import AuditTrail, entry_for
from gateway.audit.store import AuditQuery
from gateway.deps import AuditDep, DataSubjectOfficer, PurposeDep, SettingsDep, UpstreamsDep
from gateway.domain.audit import AuditAction, AuditedResource
from gateway.domain.credentials import Principal
from gateway.domain.identifiers import InvalidCustomerId, to_customer_key
from gateway.domain.requests import (
    DataSubjectRequestRecord,
    RequestKind,
    RequestStatus,
    new_request,
    summary,
)
from gateway.domain.visibility import EVERYTHING, Resource, allowed_fields
from gateway.requests_log import RequestLog
from gateway.scopes import ScopeReader
from gateway.upstream import Upstream, Upstreams
from prometeo import clock
from prometeo.privacy import policy_for
from prometeo.privacy.export import EXPORT_PATH
from prometeo.web import Problem

router = APIRouter(prefix="/v1/data-subject", tags=["data-subject"])

# The services asked for their part of an export, in the order the document lists them.
EXPORTING: tuple[Upstream, ...] = (
    Upstream.INGEST,
    Upstream.FEATURE_STORE,
    Upstream.SCORING,
    Upstream.NEXT_BEST_ACTION,
    Upstream.CAMPAIGNS,
)


def _request_log(request: Request) -> RequestLog:
    log: RequestLog = request.app.state.requests
    return log


def _scopes(request: Request) -> ScopeReader:
    reader: ScopeReader = request.app.state.scopes
    return reader


RequestLogDep = Annotated[RequestLog, Depends(_request_log)]
ScopesDep = Annotated[ScopeReader, Depends(_scopes)]


class DataSubjectRequest(BaseModel):
    customer_id: str = Field(min_length=1, max_length=64, description="The bank's identifier (e.g. CPF)")


class RectificationRequest(DataSubjectRequest):
    """The profile fields the customer corrected; ingest validates them and publishes the correction."""

    model_config = {"extra": "allow"}


class ObjectionRequest(DataSubjectRequest):
    objected: bool = True


class CustomerExportDocument(BaseModel):
    """Everything the platform holds or derived about one customer, machine-readable, plus a summary."""

    customer_key: str
    exported_at: datetime
    jurisdiction: str
    law: str
    language: str
    parts: dict[str, Any]
    summary: str
    request_id: str


class RequestsPage(BaseModel):
    requests: list[DataSubjectRequestRecord]
    count: int


def _checked_key(body: DataSubjectRequest, settings: SettingsDep) -> str:
    try:
        return to_customer_key(body.customer_id, settings.pseudonym_key.get_secret_value())
    except InvalidCustomerId as exc:
        raise Problem(422, "Invalid customer identifier", str(exc)) from None


async def _consents_of(upstreams: Upstreams, customer_id: str) -> dict[str, Any]:
    """Ingest's export: the consents (with the jurisdiction they were given under) and permissions."""
    response = await upstreams.call(Upstream.INGEST, "POST", "/v1/customers:export", json={"customer_id": customer_id})
    body: dict[str, Any] = response.json()
    return body


def jurisdiction_of(ingest_export: dict[str, Any]) -> str | None:
    """The jurisdiction of the customer's latest consent that names one."""
    named = [c.get("jurisdiction") for c in ingest_export.get("consents", []) if c.get("jurisdiction")]
    return named[-1] if named else None


def _counts(parts: dict[str, Any], ingest_export: dict[str, Any], reads: int, requests: int) -> dict[str, int]:
    def items(service: str) -> dict[str, Any]:
        part: dict[str, Any] = parts.get(service, {}).get("items", {})
        return part

    features = items("feature-store")
    nba, campaigns = items("next-best-action"), items("campaigns")
    return {
        "consents": len(ingest_export.get("consents", [])),
        "permissions": len(ingest_export.get("marketing", {})),
        "features": sum(len(v) for k, v in features.items() if isinstance(v, dict) and k != "privacy"),
        "scores": len(((nba.get("scores") or {}).get("scores") or {}).get("scores", [])),
        "offers": len(campaigns.get("offers") or {}) + len(nba.get("contacts") or []),
        "reads": reads,
        "requests": requests,
    }


async def _log(
    log: RequestLog,
    kind: RequestKind,
    customer_key: str,
    jurisdiction: str | None,
    received_at: datetime,
    principal: Principal,
    outcome: str,
    request_status: RequestStatus = RequestStatus.COMPLETED,
    detail: dict[str, Any] | None = None,
) -> DataSubjectRequestRecord:
    record = new_request(
        kind,
        customer_key,
        jurisdiction,
        received_at,
        clock.now(),
        request_status,
        outcome,
        principal.actor,
        detail,
    )
    await log.save(record)
    return record


async def _relay_request(
    body: DataSubjectRequest,
    principal: Principal,
    settings: SettingsDep,
    upstreams: Upstreams,
    audit: AuditTrail,
    requests: RequestLog,
    *,
    path: str,
    kind: RequestKind,
    audited_as: str,
    outcome: str,
    detail: dict[str, Any] | None = None,
) -> Response:
    """A right that acts asynchronously (erasure, rectification, objection): relayed to ingest, audited, and
    logged with its legal deadline as accepted."""
    received_at = clock.now()
    customer_key = _checked_key(body, settings)
    jurisdiction = jurisdiction_of(await _consents_of(upstreams, body.customer_id))
    upstream = await upstreams.call(Upstream.INGEST, "POST", path, json=body.model_dump())
    await audit.record(entry_for(principal, AuditAction.CHANGE, audited_as, customer_key=customer_key))
    await _log(
        requests, kind, customer_key, jurisdiction, received_at, principal, outcome, RequestStatus.ACCEPTED, detail
    )
    return Response(upstream.content, status_code=upstream.status_code, media_type="application/json")


@router.post("/export")
async def export(
    body: DataSubjectRequest,
    principal: DataSubjectOfficer,
    purpose: PurposeDep,
    settings: SettingsDep,
    upstreams: UpstreamsDep,
    audit: AuditDep,
    requests: RequestLogDep,
    scopes: ScopesDep,
) -> CustomerExportDocument:
    received_at = clock.now()
    customer_key = _checked_key(body, settings)
    if allowed_fields(Resource.DATA_EXPORT, principal.role) != EVERYTHING:
        # An export is everything held about a person: only roles that see every field may take one.
        raise Problem(403, "Forbidden", f"role {principal.role.value!r} may not see a data export")
    ingest_export = await _consents_of(upstreams, body.customer_id)
    path = EXPORT_PATH.format(customer_key=customer_key)
    answers = await asyncio.gather(*(upstreams.call(u, "GET", path) for u in EXPORTING))
    parts: dict[str, Any] = {u.value: a.json() for u, a in zip(EXPORTING, answers, strict=True)}
    parts[Upstream.INGEST.value]["consents"] = ingest_export
    # The record of this read is written before anything is disclosed, so it is part of the export too.
    await audit.record_read(principal, customer_key, AuditedResource.DATA_EXPORT, purpose)
    try:
        reads = await audit.query(AuditQuery(customer_key=customer_key, limit=1000))
    except Problem:
        reads = []
    held_requests = [r for r in await requests.latest(1000) if r.customer_key == customer_key]
    scope = await scopes.get(customer_key)
    parts["gateway"] = {
        "service": "gateway",
        "customer_key": customer_key,
        "exported_at": clock.now(),
        "items": {
            "scope": dataclasses.asdict(scope) if scope is not None else None,
            "audit": [r.model_dump(mode="json") for r in reads],
            "requests": [r.model_dump(mode="json") for r in held_requests],
        },
        "note": "the audit records and request log are kept after erasure: they prove how the data was used",
    }
    jurisdiction = jurisdiction_of(ingest_export)
    policy = policy_for(jurisdiction)
    record = await _log(requests, RequestKind.ACCESS, customer_key, jurisdiction, received_at, principal, "exported")
    counts = _counts(parts, ingest_export, len(reads), len(held_requests) + 1)
    return CustomerExportDocument(
        customer_key=customer_key,
        exported_at=clock.now(),
        jurisdiction=policy.jurisdiction.value,
        law=policy.law,
        language=policy.summary_language,
        parts=parts,
        summary=summary(policy.summary_language, policy.law, counts, bool(ingest_export.get("profiling_objected"))),
        request_id=record.request_id,
    )


@router.post("/erasure", status_code=status.HTTP_202_ACCEPTED, response_class=Response)
async def erasure(
    body: DataSubjectRequest,
    principal: DataSubjectOfficer,
    settings: SettingsDep,
    upstreams: UpstreamsDep,
    audit: AuditDep,
    requests: RequestLogDep,
) -> Response:
    return await _relay_request(
        body,
        principal,
        settings,
        upstreams,
        audit,
        requests,
        path="/v1/customers:erase",
        kind=RequestKind.ERASURE,
        audited_as="erasure",
        outcome="erasure requested on customer-erasure.v1",
    )


@router.post("/rectification", status_code=status.HTTP_202_ACCEPTED, response_class=Response)
async def rectification(
    body: RectificationRequest,
    principal: DataSubjectOfficer,
    settings: SettingsDep,
    upstreams: UpstreamsDep,
    audit: AuditDep,
    requests: RequestLogDep,
) -> Response:
    return await _relay_request(
        body,
        principal,
        settings,
        upstreams,
        audit,
        requests,
        path="/v1/customers:rectify",
        kind=RequestKind.RECTIFICATION,
        audited_as="rectification",
        outcome="rectification published on account-events.v1",
        detail={"fields": sorted(k for k in body.model_dump() if k != "customer_id")},
    )


@router.post("/objection", status_code=status.HTTP_202_ACCEPTED, response_class=Response)
async def objection(
    body: ObjectionRequest,
    principal: DataSubjectOfficer,
    settings: SettingsDep,
    upstreams: UpstreamsDep,
    audit: AuditDep,
    requests: RequestLogDep,
) -> Response:
    return await _relay_request(
        body,
        principal,
        settings,
        upstreams,
        audit,
        requests,
        path="/v1/customers:object",
        kind=RequestKind.OBJECTION,
        audited_as="profiling_objection",
        outcome="objection to profiling published" if body.objected else "objection withdrawn",
    )


@router.get("/requests", summary="Data-subject requests with their deadlines and outcomes (DPO, admin)")
async def list_requests(
    principal: DataSubjectOfficer,
    requests: RequestLogDep,
    limit: int = Query(100, ge=1, le=1000),
) -> RequestsPage:
    latest = await requests.latest(limit)
    return RequestsPage(requests=latest, count=len(latest))
