"""The feature views rebuilt from the log after a Redis loss (prometeo.views runs it).

A missing marker means the views cannot be trusted, so they are rebuilt from a clean slate: every
aggregate and applied-marker is deleted first (after a wipe there is nothing to delete; after an
upgrade from a version without markers, events older than their applied-markers' TTL would otherwise
be counted twice). Erasure next: every customer still erased (no consent after the latest erasure)
gets the tombstone back, and events ingested before a customer's latest erasure are skipped. Then
account-events.v1 from its first offset (its retention covers every window), through the service's
own atomic, idempotent apply script: each event is counted once (its applied-marker is written with
it), whatever the live consumer group had committed.
"""

from __future__ import annotations

from collections import Counter

import redis

from feature_store.domain.aggregation import Mutation, mutation_for
from feature_store.replay import reset
from feature_store.store import FeatureRepository
from prometeo.contracts import Envelope, EventPayload, topics
from prometeo.views import ErasureLog, replay


def rebuild_features(
    client: redis.Redis, repository: FeatureRepository, bootstrap: str, batch_size: int = 2_000
) -> Counter[str]:
    stats: Counter[str] = Counter()
    stats["keys_reset"] = reset(client)
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
