"""The audit trail, queryable by the DPO and admins: who read or changed which customer's data, when."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel

from gateway.audit import entry_for
from gateway.audit.store import AuditQuery
from gateway.deps import AuditDep, AuditReader, SettingsDep
from gateway.domain.audit import AuditAction, AuditRecord
from gateway.domain.identifiers import InvalidCustomerId, to_customer_key
from prometeo.web import Problem

router = APIRouter(prefix="/v1", tags=["audit"])


class AuditPage(BaseModel):
    records: list[AuditRecord]
    count: int


@router.get("/audit", summary="Query the audit trail (admin, DPO)")
async def query_audit(
    principal: AuditReader,
    settings: SettingsDep,
    audit: AuditDep,
    customer: str | None = Query(None, description="The bank's customer id or a ck_ key"),
    actor: str | None = Query(None, description="User id, client id or dev key hash"),
    since: datetime | None = Query(None, alias="from", description="Inclusive, ISO 8601 with offset"),
    until: datetime | None = Query(None, alias="to", description="Exclusive, ISO 8601 with offset"),
    limit: int = Query(100, ge=1, le=1000),
) -> AuditPage:
    customer_key = None
    if customer is not None:
        try:
            customer_key = to_customer_key(customer, settings.pseudonym_key.get_secret_value())
        except InvalidCustomerId as exc:
            raise Problem(422, "Invalid customer identifier", str(exc)) from None
    for name, value in (("from", since), ("to", until)):
        if value is not None and value.tzinfo is None:
            raise Problem(422, "Invalid time", f"{name!r} needs a UTC offset (e.g. 2026-01-01T00:00:00Z)")
    records = await audit.query(
        AuditQuery(customer_key=customer_key, actor=actor, since=since, until=until, limit=limit)
    )
    if customer_key is not None:
        # Who looked at whom is itself customer data: the DPO's query is on the trail too.
        await audit.record(entry_for(principal, AuditAction.READ, "audit", customer_key=customer_key))
    # Admin and DPO see every field (domain/visibility.py); the permission already admits no one else.
    return AuditPage(records=records, count=len(records))
