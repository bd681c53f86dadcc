"""account-events.v1 → day-bucket aggregates (idempotent by event id).

Mutations are buffered in the poll's `PendingBatch` and written in one pipelined round trip at the
end of the batch, before the offsets are committed.
"""

from __future__ import annotations

from feature_store.batch import PendingBatch
from feature_store.domain.aggregation import mutation_for
from prometeo.contracts import Envelope, EventPayload


class AccountEventsHandler:
    def __init__(self, batch: PendingBatch) -> None:
        self._batch = batch

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        self._batch.add(
            str(envelope.event_id), envelope.customer_key, envelope.type, mutation_for(payload, envelope.occurred_at)
        )
