"""offers.v1 → record each offer, deliver it through the channel adapter, emit a `delivered` outcome.

Order per offer: send → publish `delivered` → mark delivered. A crash in between re-sends with the same
idempotency key (the offer id) and republishes the same outcome event id, which KPIs count once.
A transient failure (provider down, circuit open) parks the offer in the durable schedule: the
scheduler retries it with backoff (`retry_delivery`) while the consumer moves on.
"""

from __future__ import annotations

import logging
import time
import uuid

from campaigns.adapters.base import ChannelAdapter, Delivery, PermanentDeliveryError, TransientDeliveryError
from campaigns.domain import kpis
from campaigns.domain.experiment import assign
from campaigns.schedule import Job, Schedule
from campaigns.store import CampaignStore, OfferRecord, experiment_increments, kpi_key
from prometeo.bus import EventProducer, RetryableError
from prometeo.contracts import Channel, Envelope, EventPayload, new_event, topics, utcnow
from prometeo.contracts.events import OfferDecidedV1, OutcomeKind, OutcomeRecordedV1, RankedOffer
from prometeo.telemetry.metrics import DELIVERIES

log = logging.getLogger(__name__)
SOURCE = "campaigns"


def delivered_event_id(offer_id: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"prometeo:{offer_id}:delivered")


class OffersHandler:
    def __init__(
        self,
        store: CampaignStore,
        adapter: ChannelAdapter,
        producer: EventProducer,
        publish_timeout_s: float,
        campaign_id: str,
        control_share: float = 0.0,
        schedule: Schedule | None = None,
        park_s: float = 30.0,
    ) -> None:
        self._store = store
        self._adapter = adapter
        self._producer = producer
        self._publish_timeout_s = publish_timeout_s
        self._campaign_id = campaign_id
        self._control_share = control_share
        self._schedule = schedule
        self._park_s = park_s

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        if not isinstance(payload, OfferDecidedV1) or self._store.erased_after(
            envelope.customer_key, envelope.occurred_at
        ):
            return
        totals = kpi_key("totals")
        self._store.count_once(
            str(envelope.event_id),
            [(totals, kpis.DECISIONS, 1)] + ([] if payload.offers else [(totals, kpis.NO_ACTION, 1)]),
        )
        for offer in payload.offers:
            record = self._record(envelope, payload, offer)
            if record.status == "recorded":
                try:
                    self.deliver(record)
                except TransientDeliveryError as exc:
                    self._park(record, exc)

    def _record(self, envelope: Envelope, decision: OfferDecidedV1, offer: RankedOffer) -> OfferRecord:
        record = self._store.get_offer(envelope.customer_key, offer.offer_id)
        if record is None:
            group = assign(envelope.customer_key, self._campaign_id, self._control_share)
            record = OfferRecord(
                offer_id=offer.offer_id,
                decision_id=decision.decision_id,
                customer_key=envelope.customer_key,
                product=offer.product.value,
                channel=offer.channel.value,
                propensity=offer.propensity,
                expected_value=offer.expected_value,
                reason_codes=[r.code for r in offer.reasons],
                rules_passed=offer.rules_passed,
                decided_at=envelope.occurred_at,
                campaign_id=self._campaign_id,
                group=group,
                segment=decision.segment,
                model_version=decision.model_version,
                # The control group receives nothing: it measures what happens without the offer.
                status="holdout" if group == "control" else "recorded",
            )
            self._store.save_offer(record)
        counter = kpis.HOLDOUT if record.group == "control" else kpis.OFFERS
        self._store.count_once(
            f"{offer.offer_id}.recorded",
            record.kpi_increments(counter) + experiment_increments(record.campaign_id, record.group, kpis.OFFERS),
        )
        return record

    def _park(self, record: OfferRecord, exc: TransientDeliveryError) -> None:
        if self._schedule is None:
            raise RetryableError(str(exc)) from exc
        # Scheduled before the status changes: a crash in between leaves a job, never a lost offer.
        self._schedule.add(
            Job(kind="deliver", customer_key=record.customer_key, offer_id=record.offer_id), time.time() + self._park_s
        )
        self._store.save_offer(record.model_copy(update={"status": "parked"}))
        DELIVERIES.labels(self._adapter.name, "parked").inc()
        log.warning("delivery parked for retry", extra={"offer_id": record.offer_id, "error": str(exc)[:300]})

    def retry_delivery(self, job: Job) -> None:
        """Scheduler job: a parked offer, sent again with the same idempotency key (raises to retry later)."""
        record = self._store.get_offer(job.customer_key, job.offer_id)
        if record is None or record.status not in ("parked", "recorded"):
            return  # delivered meanwhile, refused, or the customer was erased
        self.deliver(record)

    def deliver(self, record: OfferRecord) -> None:
        """Send, publish `delivered`, mark delivered; a permanent refusal marks the offer failed.
        Raises TransientDeliveryError when the channel is unavailable."""
        delivery = Delivery(
            offer_id=record.offer_id,
            decision_id=record.decision_id,
            customer_key=record.customer_key,
            product=record.product,
            channel=record.channel,
            reason_codes=tuple(record.reason_codes),
        )
        adapter = self._adapter.name
        try:
            receipt = self._adapter.send(delivery)
        except PermanentDeliveryError as exc:
            DELIVERIES.labels(adapter, "failed").inc()
            log.warning("delivery refused", extra={"offer_id": record.offer_id, "error": str(exc)})
            self._store.count_once(f"{record.offer_id}.failed", record.kpi_increments(kpis.FAILED))
            self._store.save_offer(record.model_copy(update={"status": "failed", "adapter": adapter}))
            return
        except TransientDeliveryError:
            DELIVERIES.labels(adapter, "retry").inc()
            raise
        adapter = receipt.adapter
        outcome = OutcomeRecordedV1(
            offer_id=record.offer_id, product=record.product, outcome=OutcomeKind.DELIVERED, channel=record.channel
        )
        event = new_event(
            outcome, customer_key=record.customer_key, source=SOURCE, event_id=delivered_event_id(record.offer_id)
        )
        self._producer.publish(topics.OUTCOMES, event).get(timeout=self._publish_timeout_s)
        advisor = record.channel == Channel.ADVISOR.value  # a call for an advisor to make
        self._store.count_once(
            f"{record.offer_id}.delivered",
            record.kpi_increments(kpis.CONTACTS) + ([(kpi_key("totals"), kpis.ADVISOR_TASKS, 1)] if advisor else []),
        )
        self._store.save_offer(
            record.model_copy(
                update={"status": "delivered", "adapter": adapter, "delivered_at": utcnow(), "advisor_task": advisor}
            )
        )
        DELIVERIES.labels(adapter, "delivered").inc()
