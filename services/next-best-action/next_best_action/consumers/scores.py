"""scores.v1 → decide → OfferDecidedV1 on offers.v1, and the offers made become contact history.

Ids derive from the scores event id, so a redelivery republishes the same decision and offer ids
(campaigns de-duplicates on them) and records each contact once.
"""

from __future__ import annotations

import logging
import uuid

from next_best_action.domain.decision import Decision, decide, volume_day
from next_best_action.domain.learning import learned_or_fixed
from next_best_action.domain.triggers import moments_from_scores
from next_best_action.moments import MomentRunner
from next_best_action.policy_source import PolicySource
from next_best_action.response_store import LeverStore, ResponseStore
from next_best_action.store import NbaStore
from prometeo import clock
from prometeo.bus import EventProducer
from prometeo.contracts import Envelope, EventPayload, new_event, topics
from prometeo.contracts.events import OfferDecidedV1, ScoresComputedV1
from prometeo.telemetry.metrics import OFFERS_DECIDED

log = logging.getLogger(__name__)
SOURCE = "next-best-action"
PUBLISH_TIMEOUT_S = 15.0


def decision_id_for(scores_event_id: uuid.UUID) -> str:
    return "dc_" + uuid.uuid5(scores_event_id, "decision").hex


def offer_decided(decision: Decision) -> OfferDecidedV1:
    return OfferDecidedV1(
        decision_id=decision.decision_id,
        model_version=decision.model_version,
        offers=[
            {
                "offer_id": o.offer_id,
                "product": o.product,
                "channel": o.channel,
                "propensity": o.propensity,
                "expected_value": o.expected_value,
                "reasons": list(o.reasons),
                "rules_passed": list(o.rules_passed),
                "priority": o.priority,
                "response_factor": o.response_factor,
            }
            for o in decision.offers
        ],
        blocked=decision.blocked,
        objective=decision.objective,
        segment=decision.segment,
    )


class ScoresHandler:
    def __init__(
        self,
        store: NbaStore,
        policies: PolicySource,
        producer: EventProducer,
        levers: LeverStore,
        responses: ResponseStore,
        moments: MomentRunner | None = None,
    ) -> None:
        self._store = store
        self._policies = policies
        self._producer = producer
        self._levers = levers
        self._responses = responses
        self._moments = moments

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        if not isinstance(payload, ScoresComputedV1):
            return
        event_id, ck = str(envelope.event_id), envelope.customer_key
        if self._store.seen(event_id) or self._store.is_erased(ck):
            return
        if self._store.marketing.profiling_objected(ck):
            # Opposition to profiling: no scores kept, no decision, no offer (consents for other purposes stand).
            self._store.mark(event_id)
            return
        if not self._store.save_scores(ck, payload, envelope.occurred_at):
            self._store.mark(event_id)  # superseded by fresher scores: deciding on stale ones helps nobody
            return
        now, policy = clock.now(), self._policies.current()
        day = volume_day(now, policy)
        decision_id = decision_id_for(envelope.event_id)
        table = self._responses.table(payload.profile.get("digital_archetype")) if policy.learning.enabled else None
        decision = decide(
            payload,
            self._store.permissions(ck),
            self._store.history(ck),
            now,
            policy,
            decision_id=decision_id,
            mode="outbound",
            volume_today=self._store.volume(day),
            levers=self._levers.all(),
            response=learned_or_fixed(table, (s.product for s in payload.scores), policy, decision_id=decision_id),
        )
        # Across customers: volume constraints and the product-share cap, reserved atomically (a
        # redelivery gets the verdicts of the first attempt). Offers refused fall to the next candidate.
        decision = self._store.reserve(decision, policy, len(decision.offers))
        event = new_event(
            offer_decided(decision),
            customer_key=ck,
            source=SOURCE,
            event_id=uuid.uuid5(envelope.event_id, "offer-decided"),
        )
        # Wait for the broker before recording contacts: an unpublished offer is not a contact.
        future = self._producer.publish(topics.OFFERS, event)
        self._producer.flush(PUBLISH_TIMEOUT_S)  # ship it now: lingering only delays an ack we wait for
        future.get(timeout=PUBLISH_TIMEOUT_S)
        self._store.record_contacts(ck, decision, day)
        self._responses.record_offers(ck, decision)
        if self._moments is not None:
            # Activity against the customer's own baseline, days since an acquisition: judged on fresh
            # features; each moment acts once by its trigger key, so a redelivery adds nothing.
            acquired = self._moments.acquired(ck)
            self._moments.run(ck, moments_from_scores(payload.features, acquired, now, policy), now)
        self._store.mark(event_id)
        _count(decision)
        log.info(
            "decision published",
            extra={
                "customer_key": ck,
                "decision_id": decision.decision_id,
                "offers": len(decision.offers),
                "blocked": len(decision.blocked),
            },
        )


def _count(decision: Decision) -> None:
    if decision.no_action:
        OFFERS_DECIDED.labels("no_action", "none", "none").inc()
    for offer in decision.offers:
        OFFERS_DECIDED.labels("offered", offer.product.value, offer.channel.value).inc()
    for product in decision.blocked:
        OFFERS_DECIDED.labels("blocked", product, "none").inc()
