"""features-updated.v1 → scores.v1: the champion scores every product, with reasons — or, for the
configured share of customers (stable by customer key), the challenger, while one is loaded. Every
scores event names the version that produced it, and so does every decision and offer made on it.

Scoring keeps no customer state, so redelivery is harmless; the output's event id is derived from
the input's and the model version, so a redelivered input yields the same scores event id and
downstream consumers de-duplicate it. The batch-end hook returns only once the broker acknowledged
every scores event of the poll (or raises a retryable error): the loop commits after it, so a poll
is never committed with its scores still in the producer's buffer.
"""

from __future__ import annotations

import time
import uuid

from prometeo import clock
from prometeo.bus import EventProducer, RetryableError
from prometeo.bus.producer import PublishInterrupted, SendFuture
from prometeo.contracts import Envelope, EventPayload, topics
from prometeo.contracts.events import FeaturesUpdatedV1, ProductScore, ScoresComputedV1
from prometeo.contracts.wire import EncodedEvent, EnvelopeEncoder
from prometeo.telemetry.metrics import DRIFT_SAMPLE, FEATURE_PSI, SCORE_PSI, SCORES_SERVED
from scoring.domain.routing import serves_challenger
from scoring.domain.scorer import ScoringInput
from scoring.models import LoadedModel, ModelHolder

SOURCE = "scoring"
# The PSI gauges are recomputed over every bucket of every feature: at most this often, not every poll.
DRIFT_EXPORT_INTERVAL_S = 5.0
_NAMESPACE = uuid.UUID("5b0c4a52-6f0e-4a7e-9d3c-2f1f6a1d9e01")


class FeaturesUpdatedHandler:
    """Buffers a poll's events and scores them in one model call at the end of the batch: the
    reason rows of many customers share a single predict, which is where the time goes."""

    def __init__(
        self,
        models: ModelHolder,
        producer: EventProducer,
        alias: str,
        reasons_per_product: int,
        *,
        challenger_alias: str = "challenger",
        challenger_share: float = 0.0,
    ) -> None:
        self._models = models
        self._producer = producer
        self._alias = alias
        self._reasons = reasons_per_product
        self._challenger_alias = challenger_alias
        self._challenger_share = challenger_share
        self._pending: list[tuple[Envelope, FeaturesUpdatedV1]] = []
        self._drift_exported: dict[str, float] = {}  # model version → when its gauges were last set

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        if not isinstance(payload, FeaturesUpdatedV1):
            raise TypeError(f"{envelope.type} does not belong on {topics.FEATURES_UPDATED}")
        self._pending.append((envelope, payload))

    def flush(self) -> None:
        """Score and publish the batch, and wait (bounded) for the broker's acks; the loop commits after."""
        if not self._pending:
            return
        model = self._models.get(self._alias)
        if model is None:
            self._pending.clear()  # the loop rewinds the batch and redelivers it
            raise RetryableError("no champion model loaded yet")
        batch, self._pending = self._pending, []
        challenger = self._models.get(self._challenger_alias) if self._challenger_share > 0 else None
        groups: dict[str, tuple[str, LoadedModel, list[tuple[Envelope, FeaturesUpdatedV1]]]] = {}
        for item in batch:
            alias, serving = self._alias, model
            if challenger is not None and serves_challenger(item[0].customer_key, self._challenger_share):
                alias, serving = self._challenger_alias, challenger
            groups.setdefault(alias, (alias, serving, []))[2].append(item)
        deadline = time.monotonic() + self._producer.ack_wait_s
        generation = self._producer.generation
        futures: list[SendFuture] = []
        try:
            for alias, serving, items in groups.values():
                futures += self._publish(alias, serving, items)
        except PublishInterrupted as exc:  # send() itself failed (no metadata in time, buffer full)
            self._producer.failed(exc.cause, generation)
            raise RetryableError(f"publish to {topics.SCORES} failed: {type(exc.cause).__name__}") from exc
        except Exception as exc:
            self._producer.failed(exc, generation)
            raise RetryableError(f"publish to {topics.SCORES} failed: {type(exc).__name__}") from exc
        failed = self._producer.wait_acks(futures, deadline, generation).count(False)
        if failed:
            raise RetryableError(f"{failed} scores event(s) to {topics.SCORES} not acknowledged by the broker")

    def _publish(
        self, alias: str, model: LoadedModel, batch: list[tuple[Envelope, FeaturesUpdatedV1]]
    ) -> list[SendFuture]:
        inputs = [
            ScoringInput(p.features, [h.value for h in p.held_products], [h.value for h in p.held_elsewhere])
            for _, p in batch
        ]
        SCORES_SERVED.labels(alias, model.version).inc(len(batch))
        scored = model.score(inputs, self._reasons)
        if model.drift is not None:
            model.drift.observe(
                [p.features for _, p in batch],
                {product: [s[j].propensity for s in scored] for j, product in enumerate(_products(scored))},
            )
            now = time.monotonic()
            if now - self._drift_exported.get(model.version, float("-inf")) >= DRIFT_EXPORT_INTERVAL_S:
                self._drift_exported[model.version] = now
                export_drift(model)
        # Straight to the wire bytes (one serialisation pass, not new_event's dump, rebuild and dump again):
        # the same envelope fields, ingested at the poll's instant, each event occurring when it is built.
        encoder = EnvelopeEncoder(clock.now())
        events: list[EncodedEvent] = []
        for (envelope, payload), scores in zip(batch, scored, strict=True):
            out = ScoresComputedV1(
                model_name=model.name,
                model_version=model.version,
                feature_set_version=payload.feature_set_version,
                scores=scores,
                held_products=payload.held_products,
                held_elsewhere=payload.held_elsewhere,
                profile=payload.profile,
                features=payload.features,
            )
            event_id = uuid.uuid5(_NAMESPACE, f"{envelope.event_id}:{model.name}:{model.version}")
            events.append(
                encoder.encode(
                    out,
                    event_id=str(event_id),
                    occurred_at=clock.now(),
                    customer_key=envelope.customer_key,
                    source=SOURCE,
                )
            )
        # One call for the poll: the trace and type headers and the metric once, not per event.
        return self._producer.publish_many(topics.SCORES, events)


def _products(scored: list[list[ProductScore]]) -> list[str]:
    return [s.product.value for s in scored[0]] if scored else []


def export_drift(model: LoadedModel) -> None:
    """PSI gauges of the model version against its training snapshot (cheap: bucket arithmetic)."""
    if model.drift is None:
        return
    for feature, value in model.drift.feature_psi().items():
        FEATURE_PSI.labels(model.version, feature).set(value)
    for product, value in model.drift.score_psi().items():
        SCORE_PSI.labels(model.version, product).set(value)
    DRIFT_SAMPLE.labels(model.version).set(model.drift.observed)
