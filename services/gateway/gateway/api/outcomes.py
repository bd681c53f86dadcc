"""What happened to an offer (delivered, opened, accepted...), reported by advisors and CRM systems."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from gateway.deps import CustomerKeyDep, OutcomesWriter, UpstreamsDep
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


class OutcomeAccepted(BaseModel):
    event_id: str


@router.post("/{customer_id}/outcomes", status_code=202)
async def record_outcome(
    _: OutcomesWriter,
    customer_key: CustomerKeyDep,
    body: OutcomeCreate,
    upstreams: UpstreamsDep,
) -> OutcomeAccepted:
    upstream_body = {"customer_key": customer_key, **body.model_dump(mode="json", exclude_none=True)}
    response = await upstreams.call(Upstream.CAMPAIGNS, "POST", "/v1/outcomes", json=upstream_body)
    return OutcomeAccepted(event_id=str(response.json()["event_id"]))
