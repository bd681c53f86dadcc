"""Training labels from offer outcomes: what the customer did with each offer they were sent.

Pure. An offer is a labelled example once its answer is known: accepted → 1; declined → 0; sent and
older than the horizon without an acceptance → 0. Offers still inside the horizon without an answer
are left out (not known yet), and so are control-group offers, offers never delivered (nothing
reached the customer, so their behaviour says nothing about the offer) and triggered actions (not
ranked by a model: a retention call's answer is no propensity example).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from pydantic import BaseModel

from campaigns.store import OfferRecord
from prometeo.contracts.events import OutcomeKind

_SENT = frozenset({"delivered"})


class LabelRow(BaseModel):
    """One example, in feature_store.snapshot's input shape (customer_key, label_time, …)."""

    customer_key: str
    label_time: datetime  # when the offer was decided: features are taken as of then
    offer_id: str
    product: str
    channel: str
    campaign_id: str | None
    accepted: int


def label_rows(
    records: Iterable[OfferRecord], now: datetime, horizon: timedelta, product: str | None = None
) -> Iterator[LabelRow]:
    for record in records:
        if (
            record.status not in _SENT
            or record.group == "control"
            or record.trigger is not None
            or (product and record.product != product)
        ):
            continue
        if OutcomeKind.ACCEPTED.value in record.outcomes:
            accepted = 1
        elif OutcomeKind.DECLINED.value in record.outcomes or record.decided_at <= now - horizon:
            accepted = 0
        else:
            continue
        yield LabelRow(
            customer_key=record.customer_key,
            label_time=record.decided_at,
            offer_id=record.offer_id,
            product=record.product,
            channel=record.channel,
            campaign_id=record.campaign_id,
            accepted=accepted,
        )
