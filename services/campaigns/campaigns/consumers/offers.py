"""offers.v1 → record each offer, deliver it through the channel adapter, emit a `delivered` outcome.

Order per offer (`delivery.py`): send → publish `delivered` → count → mark delivered. A decision's offers are
recorded together (one round trip), sent, then their outcomes published with one wait for all acks, then counted
and marked together: a crash before the marks re-sends every offer of the decision still unmarked with the same
idempotency key (the offer id) and republishes the same outcome event ids, which KPIs count once.
A transient failure (provider down, circuit open) parks the offer in the durable schedule: the
scheduler retries it with backoff (`retry_delivery`) while the consumer moves on.

`action.triggered` (a moment that matters: a retention call, a returned payment's options, a follow-up
offer) takes the same path: recorded under its action id (so outcomes can be reported against it),
delivered on the channel next-best-action chose, parked on failure. next-best-action already applied the
trigger's marketing-permission and quiet-hours rules when it chose that channel, as it does for offers.
No holdout: an action is service or retention, not a campaign's experiment.
"""

from __future__ import annotations

import logging

from campaigns.adapters.base import Delivery, PermanentDeliveryError, TransientDeliveryError
from campaigns.delivery import Deliverer, SendRequest, Sent, delivery_for
from campaigns.domain import kpis
from campaigns.domain.experiment import assign
from campaigns.schedule import Job, Schedule
from campaigns.store import CampaignStore, Increment, OfferRecord, experiment_increments, kpi_key
from prometeo import clock
from prometeo.bus import RetryableError
from prometeo.contracts import Channel, Envelope, EventPayload
from prometeo.contracts.events import ActionTriggeredV1, OfferDecidedV1, RankedOffer
from prometeo.permissions import MarketingPermissions
from prometeo.telemetry.metrics import DELIVERIES

log = logging.getLogger(__name__)


class OffersHandler:
    def __init__(
        self,
        store: CampaignStore,
        deliverer: Deliverer,
        campaign_id: str,
        control_share: float = 0.0,
        schedule: Schedule | None = None,
        park_s: float = 30.0,
        permissions: MarketingPermissions | None = None,
    ) -> None:
        self._permissions = permissions
        self._store = store
        self._deliverer = deliverer
        self._campaign_id = campaign_id
        self._control_share = control_share
        self._schedule = schedule
        self._park_s = park_s

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        if isinstance(payload, ActionTriggeredV1):
            # One round trip: the erasure tombstone and the action's record if a redelivery already made it.
            known_action = self._store.offers_unless_erased(
                envelope.customer_key, envelope.occurred_at, [payload.action_id]
            )
            if known_action is not None:
                self._send_all([self._record_action(envelope, payload, known_action[0])])
            return
        if not isinstance(payload, OfferDecidedV1):
            return
        # One round trip: the erasure tombstone, and whatever a redelivery of this decision already recorded.
        known = self._store.offers_unless_erased(
            envelope.customer_key, envelope.occurred_at, [o.offer_id for o in payload.offers]
        )
        if known is None:
            return
        totals = kpi_key("totals")
        writes: list[tuple[OfferRecord | None, str, list[Increment]]] = [
            (
                None,
                str(envelope.event_id),
                [(totals, kpis.DECISIONS, 1)] + ([] if payload.offers else [(totals, kpis.NO_ACTION, 1)]),
            )
        ]
        records: list[OfferRecord] = []
        for offer, record in zip(payload.offers, known, strict=True):
            recorded, new, (marker, increments) = self._record(envelope, payload, offer, record)
            writes.append((recorded if new else None, marker, increments))
            records.append(recorded)
        # The decision counted, then each offer saved (when new) and counted: one round trip for all.
        self._store.save_and_count(writes)
        self._send_all(records)

    def _send_all(self, records: list[OfferRecord]) -> None:
        """Send the recorded offers together (the outbox writes them in one round trip), record the sent
        ones together (one wait for all their outcomes' acks, one round trip to count and mark them:
        `Deliverer.record`), then park those the channel could not take. Recorded before parking: without a
        schedule a park raises to retry the event, and the offers already sent are then marked, not re-sent."""
        due = [r for r in records if r.status == "recorded"]
        if not due:
            return
        results = self._deliverer.send_many([self._request(r) for r in due])
        sent = [result for result in results if isinstance(result, Sent)]
        if sent:
            self._deliverer.record(sent)
        for record, result in zip(due, results, strict=True):
            if isinstance(result, TransientDeliveryError):
                self._park(record, result)

    def _request(self, record: OfferRecord) -> SendRequest:
        return SendRequest(
            record,
            self._delivery(record),
            sent_marker=f"{record.offer_id}.delivered",
            refused=lambda exc: self._refused(record, exc),
        )

    def _record_action(self, envelope: Envelope, action: ActionTriggeredV1, record: OfferRecord | None) -> OfferRecord:
        new = record is None
        if record is None:
            record = OfferRecord(
                offer_id=action.action_id,
                decision_id=action.trigger_key,
                customer_key=envelope.customer_key,
                product=action.product.value if action.product else action.action,
                channel=action.channel.value,
                propensity=0.0,
                expected_value=0.0,
                reason_codes=[action.trigger],
                rules_passed=[],
                decided_at=envelope.occurred_at,
                trigger=action.trigger,
                action=action.action,
            )
        # Saved (when new), then counted once: one round trip.
        self._store.save_and_count(
            [(record if new else None, f"{action.action_id}.recorded", record.kpi_increments(kpis.ACTIONS))]
        )
        return record

    def _record(
        self, envelope: Envelope, decision: OfferDecidedV1, offer: RankedOffer, record: OfferRecord | None
    ) -> tuple[OfferRecord, bool, tuple[str, list[Increment]]]:
        """The offer's record (built when new), whether it is new, and its once-count of `recorded`:
        the caller saves and counts it (with the decision's other offers)."""
        new = record is None
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
                presented_to=decision.presented_to,
                # The control group receives nothing: it measures what happens without the offer.
                status="holdout" if group == "control" else "recorded",
            )
        counter = kpis.HOLDOUT if record.group == "control" else kpis.OFFERS
        # Adherence's denominator: an offer shown to an advisor (a held-out one is never acted on).
        presented = (
            [(kpi_key("advisor"), f"{record.presented_to}|{kpis.PRESENTED}", 1)]
            if record.presented_to and record.group != "control"
            else []
        )
        recorded = (
            f"{offer.offer_id}.recorded",
            record.kpi_increments(counter)
            + experiment_increments(record.campaign_id, record.group, kpis.OFFERS)
            + presented,
        )
        return record, new, recorded

    def _park(self, record: OfferRecord, exc: TransientDeliveryError) -> None:
        if self._schedule is None:
            raise RetryableError(str(exc)) from exc
        # Scheduled before the status changes: a crash in between leaves a job, never a lost offer.
        self._schedule.add(
            Job(kind="deliver", customer_key=record.customer_key, offer_id=record.offer_id),
            clock.timestamp() + self._park_s,
        )
        self._store.save_offer(record.model_copy(update={"status": "parked"}))
        DELIVERIES.labels(self._deliverer.adapter_name, "parked").inc()
        log.warning("delivery parked for retry", extra={"offer_id": record.offer_id, "error": str(exc)[:300]})

    def retry_delivery(self, job: Job) -> None:
        """Scheduler job: a parked offer, sent again with the same idempotency key (raises to retry later)."""
        record = self._store.get_offer(job.customer_key, job.offer_id)
        if record is None or record.status not in ("parked", "recorded"):
            return  # delivered meanwhile, refused, or the customer was erased
        if self._permissions is not None and self._permissions.known(record.customer_key):
            # Time has passed since next-best-action decided: purpose, objection and registries are asked again.
            refusal = self._permissions.refusal(record.customer_key, Channel(record.channel))
            if refusal is not None:
                log.info("parked delivery refused", extra={"offer_id": record.offer_id, "reason": refusal.value})
                self._store.save_offer(record.model_copy(update={"status": "failed"}))
                return
        self.deliver(record)

    def deliver(self, record: OfferRecord) -> None:
        """Send, publish `delivered`, mark delivered; a permanent refusal marks the offer failed.
        Raises TransientDeliveryError when the channel is unavailable."""
        request = self._request(record)
        self._deliverer.deliver(record, request.delivery, sent_marker=request.sent_marker, refused=request.refused)

    def _delivery(self, record: OfferRecord) -> Delivery:
        """What the channel gets for the offer."""
        # A triggered action tells the channel what to do and why (no personal data: names only).
        metadata = None
        if record.trigger:
            metadata = {"trigger": record.trigger, "action": record.action or ""}
            if record.product_code is None:  # a service or retention message: its own template
                metadata["template"] = f"action_{record.action}"
        return delivery_for(record, metadata=metadata)

    def _refused(self, record: OfferRecord, exc: PermanentDeliveryError) -> None:
        log.warning("delivery refused", extra={"offer_id": record.offer_id, "error": str(exc)})
        self._store.count_once(f"{record.offer_id}.failed", record.kpi_increments(kpis.FAILED))
        self._store.save_offer(record.model_copy(update={"status": "failed", "adapter": self._deliverer.adapter_name}))
