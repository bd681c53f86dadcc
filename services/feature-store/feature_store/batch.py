"""The account-event mutations of one consumer batch (a poll, or several behind a backlog): buffered,
written in one pipelined round trip, published.

`ConsumerLoop` commits a batch's offsets only after its batch-end hook (`end`) returns, so buffering is
safe: a crash before the write redelivers the whole batch, and the applied-markers make a replay a
no-op. Consents and erasures of the same batch are applied directly, so they first write what was
buffered before them (`flush_before_consent`, `flush_before_erasure`): every event must meet the
customer's state as it was when it arrived.
"""

from __future__ import annotations

from feature_store.domain.aggregation import Mutation
from feature_store.publisher import FeaturesPublisher
from feature_store.store import ApplyResult, FeatureRepository
from prometeo.telemetry.metrics import FEATURE_UPDATES


class PendingBatch:
    def __init__(self, repository: FeatureRepository, publisher: FeaturesPublisher) -> None:
        self._repository = repository
        self._publisher = publisher
        self._pending: list[tuple[str, str, Mutation]] = []
        self._types: list[str] = []

    def add(self, event_id: str, customer_key: str, event_type: str, mutation: Mutation) -> None:
        self._pending.append((event_id, customer_key, mutation))
        self._types.append(event_type)

    def flush(self) -> None:
        """Write the buffered mutations; their customers are published at the end of the batch."""
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

    def flush_before_consent(self) -> None:
        """Buffered events that arrived before a consent must meet the state before it."""
        self.flush()

    def flush_before_erasure(self, customer_key: str) -> None:
        """Keep the order of events buffered before an erasure, and publish nothing for the customer."""
        self.flush()
        self._publisher.forget(customer_key)

    def end(self) -> None:
        """The consumer loop's batch-end hook: write, then publish the customers touched. A failed
        write leaves nothing buffered, since the loop replays the batch (or each record alone)."""
        try:
            self.flush()
        except Exception:
            self.discard()
            raise
        self._publisher.flush()
