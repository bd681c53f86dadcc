"""The feature views rebuilt from the log after a Redis loss (prometeo.views runs it).

Erasure first: every customer still erased (no consent after the latest erasure) gets the tombstone
back, and events ingested before a customer's latest erasure are skipped. Then account-events.v1 from
its first offset, through the service's own atomic, idempotent apply script: each event is counted
once (its applied-marker is written with it), whatever the live consumer group had committed.
"""

from __future__ import annotations

from collections import Counter

from feature_store.domain.aggregation import Mutation, mutation_for
from feature_store.store import FeatureRepository
from prometeo.contracts import Envelope, EventPayload, topics
from prometeo.views import ErasureLog, replay


def rebuild_features(repository: FeatureRepository, bootstrap: str, batch_size: int = 2_000) -> Counter[str]:
    stats: Counter[str] = Counter()
    erasures = ErasureLog.read(bootstrap)
    for ck in erasures.still_erased():
        repository.mark_erased(ck)
        stats["tombstones"] += 1
    pending: list[tuple[str, str, Mutation]] = []

    def collect(envelope: Envelope, payload: EventPayload) -> None:
        pending.append((str(envelope.event_id), envelope.customer_key, mutation_for(payload, envelope.occurred_at)))

    def flush() -> None:
        for result in repository.apply_many(pending):
            stats[f"applied_{result.name.lower()}"] += 1
        pending.clear()

    replay(bootstrap, erasures, [(topics.ACCOUNT_EVENTS, collect)], stats, on_batch=flush, batch_size=batch_size)
    return stats
