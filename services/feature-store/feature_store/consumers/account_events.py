"""account-events.v1 → day-bucket aggregates (idempotent by event id)."""

from __future__ import annotations

import logging

from prometeo.contracts import Envelope, EventPayload
from prometeo.telemetry.metrics import FEATURE_UPDATES

from feature_store.domain.aggregation import mutation_for
from feature_store.publisher import FeaturesPublisher
from feature_store.store import ApplyResult, FeatureRepository

log = logging.getLogger(__name__)


class AccountEventsHandler:
    def __init__(self, repository: FeatureRepository, publisher: FeaturesPublisher) -> None:
        self._repository = repository
        self._publisher = publisher

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        mutation = mutation_for(payload)
        result = self._repository.apply(str(envelope.event_id), envelope.customer_key, mutation)
        if result is ApplyResult.ERASED:
            FEATURE_UPDATES.labels("refused_erased").inc()
            return
        FEATURE_UPDATES.labels(envelope.type if result is ApplyResult.APPLIED else "duplicate").inc()
        # Duplicates touch too: a crash may have struck between the Redis write and the publish.
        self._publisher.touch(envelope.customer_key)
