"""features-updated.v1 → scores.v1: the champion scores every product, with reasons.

Scoring keeps no customer state, so redelivery is harmless; the output's event id is derived from
the input's and the model version, so a redelivered input yields the same scores event id and
downstream consumers de-duplicate it.
"""

from __future__ import annotations

import uuid

from prometeo.bus import EventProducer, RetryableError
from prometeo.contracts import Envelope, EventPayload, new_event, topics
from prometeo.contracts.events import FeaturesUpdatedV1, ScoresComputedV1
from scoring.domain.scorer import ScoringInput
from scoring.models import ModelHolder

SOURCE = "scoring"
_NAMESPACE = uuid.UUID("5b0c4a52-6f0e-4a7e-9d3c-2f1f6a1d9e01")


class FeaturesUpdatedHandler:
    """Buffers a poll's events and scores them in one model call at the end of the batch: the
    reason rows of many customers share a single predict, which is where the time goes."""

    def __init__(self, models: ModelHolder, producer: EventProducer, alias: str, reasons_per_product: int) -> None:
        self._models = models
        self._producer = producer
        self._alias = alias
        self._reasons = reasons_per_product
        self._pending: list[tuple[Envelope, FeaturesUpdatedV1]] = []

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        if not isinstance(payload, FeaturesUpdatedV1):
            raise TypeError(f"{envelope.type} does not belong on {topics.FEATURES_UPDATED}")
        self._pending.append((envelope, payload))

    def flush(self) -> None:
        """Score and publish the batch; the consumer loop flushes the producer, then commits."""
        if not self._pending:
            return
        model = self._models.get(self._alias)
        if model is None:
            self._pending.clear()  # the loop rewinds the batch and redelivers it
            raise RetryableError("no champion model loaded yet")
        batch, self._pending = self._pending, []
        inputs = [
            ScoringInput(p.features, [h.value for h in p.held_products], [h.value for h in p.held_elsewhere])
            for _, p in batch
        ]
        for (envelope, payload), scores in zip(batch, model.score(inputs, self._reasons), strict=True):
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
            self._producer.publish(
                topics.SCORES, new_event(out, customer_key=envelope.customer_key, source=SOURCE, event_id=event_id)
            )
