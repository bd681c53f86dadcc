"""The consent and marketing-permission views rebuilt from the log after a Redis loss (prometeo.views).

Erasure first: the tombstones of customers still erased come back from customer-erasure.v1, and no
consent event from before a customer's latest erasure is replayed. Then consent-events.v1 from its
first offset through the live handler (group-less: the group's committed offsets are past it).
The dedupe window is not rebuilt: event ids derive from (source, source_event_id), so a source event
re-sent after the loss is the same event downstream and its applied-markers make it a no-op.
"""

from __future__ import annotations

from collections import Counter

from ingest_openfinance.consumers.consent_events import ConsentEventsHandler
from ingest_openfinance.store import ConsentStore
from prometeo.contracts import topics
from prometeo.views import ErasureLog, replay


def rebuild_consents(store: ConsentStore, bootstrap: str) -> Counter[str]:
    stats: Counter[str] = Counter()
    erasures = ErasureLog.read(bootstrap)
    for ck, erased_at in erasures.still_erased().items():
        store.restore_erasure(ck, erased_at)
        stats["tombstones"] += 1
    replay(bootstrap, erasures, [(topics.CONSENT_EVENTS, ConsentEventsHandler(store))], stats)
    return stats
