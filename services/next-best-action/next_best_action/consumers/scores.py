"""scores.v1 → decide → OfferDecidedV1 on offers.v1, and the offers made become contact history.

Ids derive from the scores event id, so a redelivery republishes the same decision and offer ids
(campaigns de-duplicates on them) and records each contact once.

A poll is decided as a batch: the handler only buffers, and `end` (the consumer loop's batch-end hook,
run before the commit) reads every customer's inputs in one pipeline, decides in arrival order, publishes
the poll's offers and waits for their acks once, then records contacts and markers in one pipeline. A
customer's second event of the poll starts a new round (read again once the earlier one is recorded),
and what an earlier decision of a round will record (day volume, learned trials) is added to what the
next ones see: each decision, in arrival order, is the one it would be one record at a time. Volume is still
reserved atomically per decision (the Lua script, in order).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime

from opentelemetry import context

from next_best_action.domain.decision import Decision, decide, volume_day
from next_best_action.domain.learning import UNKNOWN_SEGMENT, ResponseStats, learned_or_fixed
from next_best_action.domain.triggers import moments_from_scores
from next_best_action.moments import MomentRunner
from next_best_action.policy_source import PolicySource
from next_best_action.response_store import LeverStore, ResponseStore, levers_key
from next_best_action.store import SCORES_INPUT_READS, NbaStore, ScoresInputs
from prometeo import clock
from prometeo.bus import EventProducer, RetryableError
from prometeo.contracts import Channel, Envelope, EventPayload, ProductCode, new_event, topics
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


_Pending = tuple[Envelope, ScoresComputedV1, context.Context]


@dataclass(frozen=True)
class _Decided:
    envelope: Envelope
    payload: ScoresComputedV1
    decision: Decision
    now: datetime
    day: str
    acquired: dict[ProductCode, date]
    trace: context.Context  # the scores event's (consumer span's) context: its offer carries the trace on


class ScoresHandler:
    """The per-record handler buffers the poll's scores events; `end` decides them (see the module doc)."""

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
        self._pending: list[_Pending] = []

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        if isinstance(payload, ScoresComputedV1):
            self._pending.append((envelope, payload, context.get_current()))

    def end(self) -> None:
        """The consumer loop's batch-end hook. A failure leaves nothing buffered: the loop replays the
        poll (or each record alone), and the markers and reservations make the replay a no-op."""
        pending, self._pending = self._pending, []
        for batch in _rounds(pending):
            self._decide_round(batch)

    def discard(self) -> None:
        """Forget what is buffered (the batch-end hook was held back: the loop replays the poll)."""
        self._pending.clear()

    def _decide_round(self, batch: list[_Pending]) -> None:
        policy = self._policies.current()
        learning = policy.learning.enabled
        day = volume_day(clock.now(), policy)
        segments = sorted({_segment(p.profile.get("digital_archetype")) for _, p, _ in batch}) if learning else []
        pipe = self._store.pipeline()
        for envelope, _, _ in batch:
            self._store.queue_scores_inputs(pipe, str(envelope.event_id), envelope.customer_key)
            if learning:
                self._responses.queue_offered(pipe, envelope.customer_key)
            if self._moments is not None:
                self._moments.queue_acquired(pipe, envelope.customer_key)
        self._store.queue_volume(pipe, day)
        pipe.hgetall(levers_key())
        for segment in segments:
            self._responses.queue_table(pipe, segment)
        results = iter(pipe.execute())
        reads: list[tuple[ScoresInputs, set[bytes], dict[ProductCode, date]]] = []
        for _ in batch:
            inputs = self._store.scores_inputs_from([next(results) for _ in range(SCORES_INPUT_READS)])
            offered = {_bytes(k) for k in next(results)} if learning else set()
            acquired = self._moments.acquired_from(next(results)) if self._moments is not None else {}
            reads.append((inputs, offered, acquired))
        volumes = {day: self._store.volume_from(next(results))}
        levers = LeverStore.parse(next(results))
        tables = {segment: dict(self._responses.table_from(next(results))) for segment in segments}

        writes = self._store.pipeline()
        decided: list[_Decided] = []
        for (envelope, payload, trace), (inputs, offered, acquired) in zip(batch, reads, strict=True):
            event_id, ck = str(envelope.event_id), envelope.customer_key
            if inputs.seen or inputs.erased:
                continue
            if inputs.profiling_objected:
                # Opposition to profiling: no scores kept, no decision, no offer (consents for other purposes stand).
                self._store.mark(event_id, writes)
                continue
            if inputs.scores_at is not None and inputs.scores_at > envelope.occurred_at:
                self._store.mark(event_id, writes)  # superseded by fresher scores: deciding on stale ones helps nobody
                continue
            self._store.put_scores(ck, envelope.payload, envelope.occurred_at, writes)
            now = clock.now()
            decision_day = volume_day(now, policy)
            if decision_day not in volumes:
                volumes[decision_day] = self._store.volume(decision_day)
            volume = volumes[decision_day]
            decision_id = decision_id_for(envelope.event_id)
            table = tables[_segment(payload.profile.get("digital_archetype"))] if learning else None
            decision = decide(
                payload,
                inputs.permissions,
                inputs.history,
                now,
                policy,
                decision_id=decision_id,
                mode="outbound",
                volume_today=dict(volume),
                levers=levers,
                response=learned_or_fixed(table, (s.product for s in payload.scores), policy, decision_id=decision_id),
            )
            # Across customers: volume constraints and the product-share cap, reserved atomically (a
            # redelivery gets the verdicts of the first attempt). Offers refused fall to the next candidate.
            decision = self._store.reserve(decision, policy, len(decision.offers))
            # What recording this decision adds, the poll's next decisions see (as one record at a time
            # they would): a new contact counts in the day's volume, a new offer in the learned trials.
            known = {(c.offer_id, c.product, c.channel) for c in inputs.history.contacts}
            recorded = tables.get(_segment(decision.segment)) if learning else None
            for offer in decision.offers:
                if (offer.offer_id, offer.product, offer.channel) not in known:
                    volume[offer.product] = volume.get(offer.product, 0) + 1
                if recorded is not None and offer.offer_id.encode() not in offered:
                    _add_trial(recorded, offer.product, offer.channel, offer.propensity)
            decided.append(_Decided(envelope, payload, decision, now, decision_day, acquired, trace))

        # Wait for the broker before recording contacts: an unpublished offer is not a contact.
        self._publish(decided)
        for item in decided:
            self._store.record_contacts(item.envelope.customer_key, item.decision, item.day, writes)
            self._responses.record_offers(item.envelope.customer_key, item.decision, writes)
        # Activity against the customer's own baseline, days since an acquisition: judged on fresh
        # features; each moment acts once by its trigger key, so a redelivery adds nothing. Pure: found
        # before the writes, so a round without moments queues its markers behind its contacts in the same
        # pipeline (Redis applies them in order: a marker is still never set before its contacts).
        runner = self._moments
        found = [
            (item, moments)
            for item in (decided if runner is not None else [])
            if (moments := moments_from_scores(item.payload.features, item.acquired, item.now, policy))
        ]
        if not found:
            for item in decided:
                self._store.mark(str(item.envelope.event_id), writes)
        writes.execute()
        if runner is not None and found:
            # Markers only after the moments ran: a crash before leaves them to the redelivery.
            for item, moments in found:
                runner.run(item.envelope.customer_key, moments, item.now)
            marks = self._store.pipeline()
            for item in decided:
                self._store.mark(str(item.envelope.event_id), marks)
            marks.execute()
        for item in decided:
            _count(item.decision)
            if log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "decision published",
                    extra={
                        "customer_key": item.envelope.customer_key,
                        "decision_id": item.decision.decision_id,
                        "offers": len(item.decision.offers),
                        "blocked": len(item.decision.blocked),
                    },
                )
        if decided:
            # One line a round: a JSON log record per decision was 4 % of the stream's CPU.
            log.info(
                "decisions published",
                extra={
                    "decisions": len(decided),
                    "offers": sum(len(item.decision.offers) for item in decided),
                    "no_action": sum(1 for item in decided if item.decision.no_action),
                },
            )

    def _publish(self, decided: list[_Decided]) -> None:
        """Publish the round's decisions, each in its scores event's trace, and wait (bounded, as
        `EventProducer.publish_all`) until the broker acknowledged every one, or raise (retryable)."""
        if not decided:
            return
        deadline = time.monotonic() + PUBLISH_TIMEOUT_S
        futures = []
        try:
            for item in decided:
                event = new_event(
                    offer_decided(item.decision),
                    customer_key=item.envelope.customer_key,
                    source=SOURCE,
                    event_id=uuid.uuid5(item.envelope.event_id, "offer-decided"),
                )
                token = context.attach(item.trace)
                try:
                    futures.append(self._producer.publish(topics.OFFERS, event))
                finally:
                    context.detach(token)
        except Exception as exc:
            self._producer.failed(exc, self._producer.generation)
            raise RetryableError(f"publish to {topics.OFFERS} failed: {type(exc).__name__}") from exc
        # The generation the futures were sent on (the first send may have rebuilt a broken client).
        outcomes = self._producer.wait_acks(futures, deadline, self._producer.generation)
        failed = sum(1 for ok in outcomes if not ok)
        if failed:
            raise RetryableError(f"{failed} decision(s) to {topics.OFFERS} not acknowledged by the broker")


def _rounds(pending: list[_Pending]) -> list[list[_Pending]]:
    """The poll's events in arrival order, cut before a customer's second event: a round holds each
    customer once, and deciding the rounds one after the other decides in arrival order."""
    rounds: list[list[_Pending]] = []
    customers: set[str] = set()
    for item in pending:
        if not rounds or item[0].customer_key in customers:
            rounds.append([])
            customers = set()
        rounds[-1].append(item)
        customers.add(item[0].customer_key)
    return rounds


def _segment(segment: str | None) -> str:
    return segment or UNKNOWN_SEGMENT


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def _add_trial(
    table: dict[tuple[ProductCode, Channel], ResponseStats], product: ProductCode, channel: Channel, propensity: float
) -> None:
    """As `ResponseStore.record_offers` adds an offer's propensity to its cell's trials."""
    stats = table.get((product, channel), ResponseStats())
    table[(product, channel)] = replace(stats, trials=stats.trials + propensity)


def _count(decision: Decision) -> None:
    if decision.no_action:
        OFFERS_DECIDED.labels("no_action", "none", "none").inc()
    for offer in decision.offers:
        OFFERS_DECIDED.labels("offered", offer.product.value, offer.channel.value).inc()
    for product in decision.blocked:
        OFFERS_DECIDED.labels("blocked", product, "none").inc()
