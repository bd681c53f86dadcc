"""Data-subject requests (LGPD art. 18, LFPDPPP): export and erasure, admin only. The identifier
travels in the body so it never lands in a URL, an access log or a trace."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from gateway.audit import entry_for
from gateway.deps import AuditDep, DataSubjectOfficer, PurposeDep, SettingsDep, UpstreamsDep
from gateway.domain.audit import AuditAction, AuditedResource
from gateway.domain.identifiers import InvalidCustomerId, to_customer_key
from gateway.domain.visibility import EVERYTHING, Resource, allowed_fields
from gateway.upstream import Upstream
from prometeo.web import Problem

router = APIRouter(prefix="/v1/data-subject", tags=["data-subject"])


class DataSubjectRequest(BaseModel):
    customer_id: str = Field(min_length=1, max_length=64, description="The bank's identifier (e.g. CPF)")


def _checked_key(body: DataSubjectRequest, settings: SettingsDep) -> str:
    try:
        return to_customer_key(body.customer_id, settings.pseudonym_key.get_secret_value())
    except InvalidCustomerId as exc:
        raise Problem(422, "Invalid customer identifier", str(exc)) from None


@router.post("/export", response_class=Response)
async def export(
    body: DataSubjectRequest,
    principal: DataSubjectOfficer,
    purpose: PurposeDep,
    settings: SettingsDep,
    upstreams: UpstreamsDep,
    audit: AuditDep,
) -> Response:
    customer_key = _checked_key(body, settings)
    if allowed_fields(Resource.DATA_EXPORT, principal.role) != EVERYTHING:
        # An export is everything held about a person: only roles that see every field may take one.
        raise Problem(403, "Forbidden", f"role {principal.role.value!r} may not see a data export")
    upstream = await upstreams.call(Upstream.INGEST, "POST", "/v1/customers:export", json=body.model_dump())
    await audit.record_read(principal, customer_key, AuditedResource.DATA_EXPORT, purpose)
    return Response(upstream.content, status_code=upstream.status_code, media_type="application/json")


@router.post("/erasure", status_code=status.HTTP_202_ACCEPTED, response_class=Response)
async def erasure(
    body: DataSubjectRequest,
    principal: DataSubjectOfficer,
    settings: SettingsDep,
    upstreams: UpstreamsDep,
    audit: AuditDep,
) -> Response:
    customer_key = _checked_key(body, settings)
    upstream = await upstreams.call(Upstream.INGEST, "POST", "/v1/customers:erase", json=body.model_dump())
    await audit.record(entry_for(principal, AuditAction.CHANGE, "erasure", customer_key=customer_key))
    return Response(upstream.content, status_code=upstream.status_code, media_type="application/json")
