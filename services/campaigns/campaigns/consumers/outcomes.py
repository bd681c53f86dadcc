"""outcomes.v1 → KPI counters, once per event id; the offer record keeps its outcome history; a
campaign sequence of the offer advances (branch or stop)."""

from __future__ import annotations

from campaigns.domain import kpis
from campaigns.sequences import SequenceRunner
from campaigns.store import (
    CampaignStore,
    daily_outcome_increments,
    experiment_increments,
    kpi_key,
    outcome_increments,
    quality_increments,
)
from prometeo.contracts import Channel, Envelope, EventPayload
from prometeo.contracts.events import OutcomeKind, OutcomeRecordedV1
from prometeo.telemetry.metrics import OUTCOMES_RECORDED


class OutcomesHandler:
    def __init__(self, store: CampaignStore, runner: SequenceRunner | None = None) -> None:
        self._store = store
        self._runner = runner

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        if not isinstance(payload, OutcomeRecordedV1):
            return
        record = self._store.get_offer(envelope.customer_key, payload.offer_id)
        channel = payload.channel.value if payload.channel else (record.channel if record else None)
        held_out = record is not None and record.group == "control"
        # A control customer's outcome (e.g. an organic uptake) measures the baseline, not the campaign.
        dimensions = {"product": payload.product.value, "channel": channel}
        if record is not None:
            dimensions.update(segment=record.segment, campaign=record.campaign_id, trigger=record.trigger)
        dimensions["advisor"] = payload.advisor_id
        increments = (
            []
            if held_out
            else outcome_increments(payload.outcome, payload.revenue, **dimensions)
            # The series: on the business day the outcome occurred, in the same once-only step.
            + daily_outcome_increments(payload.outcome, payload.revenue, envelope.occurred_at)
        )
        if record is not None:
            increments += experiment_increments(record.campaign_id, record.group, kpis.outcome_counter(payload.outcome))
        applied = self._store.count_once(str(envelope.event_id), increments)
        if record is not None and (quality := quality_increments(record, payload.outcome)):
            # Once per offer and kind, whichever event reports it: the version's realised quality.
            self._store.count_once(f"{payload.offer_id}.quality.{payload.outcome.value}", quality)
        if (
            record is not None
            and record.advisor_task
            and payload.channel is Channel.ADVISOR
            and payload.outcome is not OutcomeKind.DELIVERED
        ):
            # Advisor adherence: the first outcome an advisor reports on a task they were given.
            acted = [(kpi_key("totals"), kpis.ADVISOR_ACTED, 1)]
            if payload.advisor_id:
                acted.append((kpi_key("advisor"), f"{payload.advisor_id}|{kpis.ADVISOR_ACTED}", 1))
            self._store.count_once(f"{payload.offer_id}.advisor_acted", acted)
        if (
            record is not None
            and not held_out
            and record.presented_to is not None
            and payload.advisor_id == record.presented_to
            and payload.outcome is not OutcomeKind.DELIVERED
        ):
            # Adherence: an offer shown to this advisor on which they reported an outcome (once per offer).
            acted_on = [(kpi_key("advisor"), f"{record.presented_to}|{kpis.ACTED_ON}", 1)]
            self._store.count_once(f"{payload.offer_id}.acted_on", acted_on)
        if applied:
            OUTCOMES_RECORDED.labels(payload.outcome.value, payload.product.value, channel or "unknown").inc()
        if record is not None and record.status != "holdout" and self._runner is not None:
            # A sequence's branch (clicked → advisor) or stop (accepted, declined); replays are no-ops.
            self._runner.on_outcome(envelope.customer_key, payload.offer_id, payload.outcome)
        if record is not None and payload.outcome.value not in record.outcomes:
            self._store.save_offer(record.model_copy(update={"outcomes": [*record.outcomes, payload.outcome.value]}))
