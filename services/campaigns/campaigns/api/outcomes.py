"""Outcomes reported by channels and CRMs: validated against the recorded offer, then published."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from fastapi import APIRouter
from kafka.errors import KafkaError
from pydantic import AwareDatetime, BaseModel, Field

from campaigns.deps import ProducerDep, SettingsDep, StoreDep
from prometeo import clock
from prometeo.contracts import Channel, ProductCode, new_event, topics
from prometeo.contracts.events import OutcomeKind, OutcomeRecordedV1
from prometeo.web import Problem

router = APIRouter(prefix="/v1", tags=["outcomes"])
_HOLDOUT_OUTCOMES = frozenset({OutcomeKind.ACCEPTED, OutcomeKind.DECLINED})
SOURCE = "campaigns"
_SKEW = timedelta(minutes=5)  # clocks of the CRM and of this service may differ a little


class OutcomeCreate(BaseModel):
    customer_key: str = Field(min_length=8, max_length=128)
    offer_id: str = Field(min_length=1, max_length=128)
    product: ProductCode
    outcome: OutcomeKind
    channel: Channel | None = None
    revenue: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    # Set by the gateway from the caller's identity, never by the caller.
    actor: str | None = Field(default=None, max_length=128)
    advisor_id: str | None = Field(default=None, max_length=64)
    # When it happened, as the CRM knows it (a late report lands on its own business day); default: now.
    occurred_at: AwareDatetime | None = None


class OutcomeAccepted(BaseModel):
    event_id: str


@router.post("/outcomes", status_code=202)
def record_outcome(
    body: OutcomeCreate, store: StoreDep, producer: ProducerDep, settings: SettingsDep
) -> OutcomeAccepted:
    offer = store.get_offer(body.customer_key, body.offer_id)
    if offer is None:
        raise Problem(404, "Offer not found", "no offer with this id was recorded for this customer")
    if offer.product != body.product.value:
        raise Problem(
            422, "Product mismatch", f"offer {body.offer_id} is for {offer.product}, not {body.product.value}"
        )
    if offer.group == "control" and body.outcome not in _HOLDOUT_OUTCOMES:
        raise Problem(
            422,
            "Offer held out",
            "a control-group offer was never sent: only accepted or declined "
            "(uptake measured without contact) can be reported",
        )
    occurred_at = body.occurred_at or clock.now()
    if occurred_at > clock.now() + _SKEW or occurred_at < offer.decided_at - _SKEW:
        raise Problem(422, "Outcome time out of range", "occurred_at must lie between the offer's decision and now")
    payload = OutcomeRecordedV1(
        offer_id=body.offer_id,
        product=body.product,
        outcome=body.outcome,
        channel=body.channel or Channel(offer.channel),
        revenue=body.revenue,
        actor=body.actor,
        advisor_id=body.advisor_id,
    )
    event = new_event(payload, customer_key=body.customer_key, source=SOURCE, occurred_at=occurred_at)
    try:
        producer.publish(topics.OUTCOMES, event).get(timeout=settings.publish_timeout_s)
    except KafkaError as exc:
        raise Problem(503, "Broker unavailable", f"outcome not recorded: {type(exc).__name__}") from exc
    return OutcomeAccepted(event_id=str(event.event_id))
