"""account-events.v1 → day-bucket aggregates (idempotent by event id).

Mutations are buffered while a poll's records are handled and written in one pipelined round trip
at the end of the batch, before the offsets are committed.
"""

from __future__ import annotations

from feature_store.domain.aggregation import Mutation, mutation_for
from feature_store.publisher import FeaturesPublisher
from feature_store.store import ApplyResult, FeatureRepository
from prometeo.contracts import Envelope, EventPayload
from prometeo.telemetry.metrics import FEATURE_UPDATES


class AccountEventsHandler:
    def __init__(self, repository: FeatureRepository, publisher: FeaturesPublisher) -> None:
        self._repository = repository
        self._publisher = publisher
        self._pending: list[tuple[str, str, Mutation]] = []
        self._types: list[str] = []

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        self._pending.append(
            (str(envelope.event_id), envelope.customer_key, mutation_for(payload, envelope.occurred_at))
        )
        self._types.append(envelope.type)

    def flush(self) -> None:
        if not self._pending:
            return
        results = self._repository.apply_many(self._pending)
        for (_, customer_key, _), event_type, result in zip(self._pending, self._types, results, strict=True):
            if result is ApplyResult.ERASED:
                FEATURE_UPDATES.labels("refused_erased").inc()
                continue
            FEATURE_UPDATES.labels(event_type if result is ApplyResult.APPLIED else "duplicate").inc()
            # Duplicates touch too: a crash may have struck between the Redis write and the publish.
            self._publisher.touch(customer_key)
        self._pending.clear()
        self._types.clear()

    def discard(self) -> None:
        """Forget buffered mutations after a failed flush: the batch is redelivered."""
        self._pending.clear()
        self._types.clear()
