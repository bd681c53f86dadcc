"""One delivery, written once: what an offer decided by next-best-action (`consumers/offers.py`) and a
campaign sequence's step (`sequences.py`) both do once their own checks let the contact go out.

send through the channel adapter → (refused for good: counted, then the caller records it) → publish the
`delivered` outcome → count the contact once → mark the offer delivered. In two phases (`send`, then `record`)
so that a decision's offers, sent one after another, publish their outcomes with one wait for all the acks and
are counted and marked in one round trip.

Everything derives from the delivery's idempotency key (the offer id, or `<offer_id>.<step_no>.<step>` for a
step): the adapter passes it on and the outcome's event id is made from it, so a re-send after a crash
repeats the same request and the same event, and the once-marker keeps the contact from counting twice.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from prometheus_client import Counter

from campaigns.adapters.base import (
    ChannelAdapter,
    Delivery,
    DeliveryError,
    DeliveryReceipt,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from campaigns.domain import kpis
from campaigns.store import CampaignStore, Increment, OfferRecord, kpi_key
from prometeo import clock
from prometeo.bus import EventProducer
from prometeo.bus.acked import publish_many_acked
from prometeo.contracts import Channel, Envelope, new_event
from prometeo.contracts.events import OutcomeKind, OutcomeRecordedV1
from prometeo.telemetry.metrics import DELIVERIES, child

SOURCE = "campaigns"
# Publishes the `delivered` outcomes given and returns once the broker acknowledged every one of them.
Publish = Callable[[Sequence[Envelope]], None]
# Statuses of an offer no delivery has reached yet (offers consumer, scheduler retry, sequence).
_UNDELIVERED = frozenset({"recorded", "parked", "sequence"})


def delivered_event_id(key: str) -> uuid.UUID:
    """The `delivered` outcome's id for a delivery key: a re-send republishes the same event."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"prometeo:{key}:delivered")


def acked_publisher(producer: EventProducer, topic: str, timeout_s: float) -> Publish:
    """`Publish` on `producer`: every outcome handed to the client at once and one wait for all their acks
    (a decision's outcomes then share a produce request). A send or an ack that fails raises RetryableError:
    the consumer re-processes the event, whose deliveries are re-sent with the same keys and outcome ids."""

    def publish(events: Sequence[Envelope]) -> None:
        publish_many_acked(producer, topic, events, time.monotonic() + timeout_s, producer.generation)

    return publish


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


@dataclass(frozen=True)
class SendRequest:
    """One delivery to send, with what `Deliverer.send` takes besides it."""

    record: OfferRecord
    delivery: Delivery
    sent_marker: str
    refused: Callable[[PermanentDeliveryError], None]
    counters: tuple[Increment, ...] = ()
    contact: bool = True
    mark_first: bool = False


@dataclass(frozen=True)
class Sent:
    """A delivery the channel took, not recorded yet: its `delivered` outcome (None: nothing to publish),
    its once-count and the offer to mark delivered after it (None: nothing changes)."""

    outcome: Envelope | None
    marker: str
    increments: list[Increment]
    mark: OfferRecord | None
    adapter: str


class Deliverer:
    """Delivery in two phases, so several deliveries share their waits: `send` each (the channel), then
    `record` them together (their outcomes published with one wait for all acks, then each counted and
    marked, in one round trip). `deliver` is both for one delivery."""

    def __init__(self, store: CampaignStore, adapter: ChannelAdapter, publish: Publish | None = None) -> None:
        """`publish` sends `delivered` outcomes and waits for the broker's acknowledgement of all of them."""
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
        The arguments are `send`'s."""
        sent = self.send(
            record,
            delivery,
            sent_marker=sent_marker,
            refused=refused,
            counters=counters,
            contact=contact,
            mark_first=mark_first,
        )
        if sent is None:
            return False
        self.record([sent])
        return True

    def send(
        self,
        record: OfferRecord,
        delivery: Delivery,
        *,
        sent_marker: str,
        refused: Callable[[PermanentDeliveryError], None],
        counters: Sequence[Increment] = (),
        contact: bool = True,
        mark_first: bool = False,
    ) -> Sent | None:
        """Send `delivery` through the channel; what is left to record it (`record`), or None when the channel
        refused it for good. Raises TransientDeliveryError when the channel is unavailable.

        `sent_marker` counts the send once, with the caller's own `counters`. `contact`: the customer was
        contacted, so the `delivered` outcome is published (KPIs, next-best-action's weekly cap) and counted
        in CONTACTS; a CRM task is not a contact, though an advisor's call or task counts as an advisor task.
        `mark_first`: whatever marks a delivery done comes last, so that a crash before it re-sends with the
        same key. The offers consumer re-sends until the offer is marked delivered (so by default it is marked
        last, by `record`); a sequence step until its `sent_marker` is counted, and there the offer is marked
        here, before the outcome is published, so the outcome's consumer reads the delivered record."""
        request = SendRequest(record, delivery, sent_marker, refused, tuple(counters), contact, mark_first)
        try:
            result: DeliveryReceipt | DeliveryError = self._adapter.send(delivery)
        except DeliveryError as exc:
            result = exc
        sent = self._settle(request, result)
        if isinstance(sent, TransientDeliveryError):
            raise sent
        return sent

    def send_many(self, requests: Sequence[SendRequest]) -> list[Sent | TransientDeliveryError | None]:
        """`send` for each request, handed to the channel together (`ChannelAdapter.send_many`: the outbox
        writes them in one round trip); per request what `send` returns, or the TransientDeliveryError it
        would raise (the caller parks that one and records the others)."""
        results = self._adapter.send_many([r.delivery for r in requests])
        return [self._settle(request, result) for request, result in zip(requests, results, strict=True)]

    def _settle(
        self, request: SendRequest, result: DeliveryReceipt | DeliveryError
    ) -> Sent | TransientDeliveryError | None:
        """What the channel's answer leaves to do: a refusal handed to the caller, an outage returned, a
        receipt turned into what `record` publishes, counts and marks."""
        if isinstance(result, PermanentDeliveryError):
            self._result(self._adapter.name, "failed").inc()
            request.refused(result)
            return None
        if isinstance(result, TransientDeliveryError):
            self._result(self._adapter.name, "retry").inc()
            return result
        if isinstance(result, DeliveryError):  # neither kind: as send() would have raised it
            raise result
        record, delivery = request.record, request.delivery
        advisor = delivery.channel == Channel.ADVISOR.value  # a call or task for an advisor to make
        marked = _marked_delivered(record, result, advisor)
        if request.mark_first and marked is not None:
            self._store.save_offer(marked)
        increments: list[Increment] = [
            *request.counters,
            *([(kpi_key("totals"), kpis.ADVISOR_TASKS, 1)] if advisor else []),
        ]
        outcome = None
        if request.contact:
            # outcomes.v1 names a product: an action about none (a retention call) is counted, not published.
            if self._publish is not None and (product := record.product_code) is not None:
                outcome = new_event(
                    OutcomeRecordedV1(
                        offer_id=record.offer_id,
                        product=product,
                        outcome=OutcomeKind.DELIVERED,
                        channel=delivery.channel,
                    ),
                    customer_key=record.customer_key,
                    source=SOURCE,
                    event_id=delivered_event_id(delivery.key),
                )
            increments += record.kpi_increments(kpis.CONTACTS, channel=delivery.channel)
        return Sent(outcome, request.sent_marker, increments, None if request.mark_first else marked, result.adapter)

    def record(self, sent: Sequence[Sent]) -> None:
        """Publish the sent deliveries' outcomes with one wait for all their acks, then count each once and
        mark it delivered (counted, then marked, in one round trip for all). Per delivery the order stays
        send → publish (acked) → count → mark; a crash anywhere before a mark re-sends that delivery with the
        same key and republishes the same outcome id, which the once-markers count once."""
        outcomes = [s.outcome for s in sent if s.outcome is not None]
        if outcomes and self._publish is not None:
            self._publish(outcomes)
        self._store.count_many([(s.marker, s.increments, s.mark) for s in sent])
        for s in sent:
            self._result(s.adapter, "delivered").inc()

    @staticmethod
    def _result(adapter: str, result: str) -> Counter:
        counter: Counter = child(DELIVERIES, adapter, result)
        return counter


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
