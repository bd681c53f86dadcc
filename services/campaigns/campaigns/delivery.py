"""One delivery, written once: what an offer decided by next-best-action (`consumers/offers.py`) and a
campaign sequence's step (`sequences.py`) both do once their own checks let the contact go out.

send through the channel adapter → (refused for good: counted, then the caller records it) → publish the
`delivered` outcome → count the contact once → mark the offer delivered.

Everything derives from the delivery's idempotency key (the offer id, or `<offer_id>.<step_no>.<step>` for a
step): the adapter passes it on and the outcome's event id is made from it, so a re-send after a crash
repeats the same request and the same event, and the once-marker keeps the contact from counting twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from campaigns.adapters.base import (
    ChannelAdapter,
    Delivery,
    DeliveryReceipt,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from campaigns.domain import kpis
from campaigns.store import CampaignStore, Increment, OfferRecord, kpi_key
from prometeo import clock
from prometeo.contracts import Channel, Envelope, new_event
from prometeo.contracts.events import OutcomeKind, OutcomeRecordedV1
from prometeo.telemetry.metrics import DELIVERIES

SOURCE = "campaigns"
Publish = Callable[[Envelope], None]
# Statuses of an offer no delivery has reached yet (offers consumer, scheduler retry, sequence).
_UNDELIVERED = frozenset({"recorded", "parked", "sequence"})


def delivered_event_id(key: str) -> uuid.UUID:
    """The `delivered` outcome's id for a delivery key: a re-send republishes the same event."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"prometeo:{key}:delivered")


def delivery_for(
    record: OfferRecord,
    channel: str | None = None,
    metadata: dict[str, str] | None = None,
    idempotency_key: str | None = None,
) -> Delivery:
    """What the channel gets for `record`: by default on the offer's own channel, keyed by its id."""
    return Delivery(
        offer_id=record.offer_id,
        decision_id=record.decision_id,
        customer_key=record.customer_key,
        product=record.product,
        channel=channel or record.channel,
        reason_codes=tuple(record.reason_codes),
        metadata=metadata or {},
        idempotency_key=idempotency_key,
    )


class Deliverer:
    def __init__(self, store: CampaignStore, adapter: ChannelAdapter, publish: Publish | None = None) -> None:
        """`publish` sends the `delivered` outcome and waits for the broker's acknowledgement."""
        self._store = store
        self._adapter = adapter
        self._publish = publish

    @property
    def adapter_name(self) -> str:
        return self._adapter.name

    def deliver(
        self,
        record: OfferRecord,
        delivery: Delivery,
        *,
        sent_marker: str,
        refused: Callable[[PermanentDeliveryError], None],
        counters: Sequence[Increment] = (),
        contact: bool = True,
        mark_first: bool = False,
    ) -> bool:
        """Send `delivery` and record it; False when the channel refused it for good. Raises
        TransientDeliveryError when the channel is unavailable (the caller parks or retries it).

        `sent_marker` counts the send once, with the caller's own `counters`. `contact`: the customer was
        contacted, so the `delivered` outcome is published (KPIs, next-best-action's weekly cap) and counted
        in CONTACTS; a CRM task is not a contact, though an advisor's call or task counts as an advisor task.
        `mark_first`: whatever marks a delivery done comes last, so that a crash before it re-sends with the
        same key. The offers consumer re-sends until the offer is marked delivered (so by default it is marked
        last); a sequence step until its `sent_marker` is counted, and there the offer is marked before the
        outcome is published, so the outcome's consumer reads the delivered record."""
        try:
            receipt = self._adapter.send(delivery)
        except PermanentDeliveryError as exc:
            DELIVERIES.labels(self._adapter.name, "failed").inc()
            refused(exc)
            return False
        except TransientDeliveryError:
            DELIVERIES.labels(self._adapter.name, "retry").inc()
            raise
        advisor = delivery.channel == Channel.ADVISOR.value  # a call or task for an advisor to make
        if mark_first and (marked := _marked_delivered(record, receipt, advisor)) is not None:
            self._store.save_offer(marked)
        increments: list[Increment] = [*counters, *([(kpi_key("totals"), kpis.ADVISOR_TASKS, 1)] if advisor else [])]
        if contact:
            # outcomes.v1 names a product: an action about none (a retention call) is counted, not published.
            if self._publish is not None and (product := record.product_code) is not None:
                outcome = OutcomeRecordedV1(
                    offer_id=record.offer_id,
                    product=product,
                    outcome=OutcomeKind.DELIVERED,
                    channel=delivery.channel,
                )
                self._publish(
                    new_event(
                        outcome,
                        customer_key=record.customer_key,
                        source=SOURCE,
                        event_id=delivered_event_id(delivery.key),
                    )
                )
            increments += record.kpi_increments(kpis.CONTACTS, channel=delivery.channel)
        # Counted, then marked delivered (when not marked first), in one round trip.
        self._store.count_once(
            sent_marker, increments, then_save=None if mark_first else _marked_delivered(record, receipt, advisor)
        )
        DELIVERIES.labels(receipt.adapter, "delivered").inc()
        return True


def _marked_delivered(record: OfferRecord, receipt: DeliveryReceipt, advisor: bool) -> OfferRecord | None:
    """The offer to save once delivered, or None when nothing changes: the first delivery marks the offer
    delivered; the first advisor call or task marks it as one."""
    first = record.status in _UNDELIVERED
    if not (first or (advisor and not record.advisor_task)):
        return None
    update: dict[str, object] = {"advisor_task": record.advisor_task or advisor}
    if first:
        update.update(status="delivered", adapter=receipt.adapter, delivered_at=clock.now())
    return record.model_copy(update=update)
