"""What happened to an offer (delivered, opened, accepted...), reported by advisors and CRM systems."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from gateway.audit import entry_for
from gateway.deps import AuditDep, CustomerKeyDep, OutcomesWriter, UpstreamsDep
from gateway.domain.audit import AuditAction
from gateway.domain.credentials import PrincipalKind
from gateway.domain.roles import Role
from gateway.upstream import Upstream
from prometeo.contracts import Channel, ProductCode
from prometeo.contracts.events import OutcomeKind

router = APIRouter(prefix="/v1/customers", tags=["outcomes"])


class OutcomeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offer_id: str = Field(min_length=1, max_length=128)
    product: ProductCode
    outcome: OutcomeKind
    channel: Channel | None = None
    revenue: Decimal | None = Field(default=None, ge=0)
    # Why a customer declined, as the advisor picked it (kept on the audit trail; not sent upstream).
    reason: str | None = Field(default=None, pattern=r"^[a-z_]{1,32}$")
    # When it happened, when reported late (campaigns checks it lies between the offer's decision and now).
    occurred_at: AwareDatetime | None = None


class OutcomeAccepted(BaseModel):
    event_id: str


@router.post("/{customer_id}/outcomes", status_code=202)
async def record_outcome(
    principal: OutcomesWriter,
    customer_key: CustomerKeyDep,
    body: OutcomeCreate,
    upstreams: UpstreamsDep,
    audit: AuditDep,
) -> OutcomeAccepted:
    upstream_body = {
        "customer_key": customer_key,
        **body.model_dump(mode="json", exclude_none=True, exclude={"reason"}),
    }
    if principal.kind is not PrincipalKind.API_KEY:
        # Who reported it, so adherence and success can be measured per person (campaigns KPIs).
        upstream_body["actor"] = principal.actor
        if principal.role is Role.ADVISOR and principal.portfolio_id:
            upstream_body["advisor_id"] = principal.portfolio_id
    response = await upstreams.call(Upstream.CAMPAIGNS, "POST", "/v1/outcomes", json=upstream_body)
    event_id = str(response.json()["event_id"])
    detail = f"{body.outcome.value} {body.offer_id} (event {event_id})" + (
        f" reason {body.reason}" if body.reason else ""
    )
    await audit.record(entry_for(principal, AuditAction.CHANGE, "outcome", customer_key=customer_key, detail=detail))
    return OutcomeAccepted(event_id=event_id)
