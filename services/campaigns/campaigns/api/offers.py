"""The offers recorded for a customer, newest first, with delivery status and outcomes."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from campaigns.deps import StoreDep

router = APIRouter(prefix="/v1", tags=["offers"])


class OfferPublic(BaseModel):
    offer_id: str
    decision_id: str
    product: str
    channel: str
    propensity: float
    expected_value: float
    reason_codes: list[str]
    rules_passed: list[str]
    decided_at: datetime
    status: str
    adapter: str | None
    delivered_at: datetime | None
    outcomes: list[str]
    campaign_id: str | None
    group: str | None
    segment: str | None
    advisor_task: bool
    trigger: str | None = None  # a triggered action: the moment behind it
    action: str | None = None


class OffersPublic(BaseModel):
    customer_key: str
    offers: list[OfferPublic]


@router.get("/offers/{customer_key}")
def list_offers(customer_key: str, store: StoreDep) -> OffersPublic:
    return OffersPublic(
        customer_key=customer_key,
        offers=[OfferPublic.model_validate(r.model_dump()) for r in store.offers(customer_key)],
    )
