"""Campaigns' marketing-permission view rebuilt from the log after a Redis loss (prometeo.views).

Erasure first: the dated tombstones of customers still erased come back (for what is left of their
TTL), so no replay of offers.v1 records an erased customer's offer again; then consent-events.v1 from
its first offset, without a consumer group, through the live handler. Offer records, sequences, the
schedule and the KPI counters are not rebuilt: they are persisted (Redis AOF, docs/redis-keys.md).
"""

from __future__ import annotations

from collections import Counter

from campaigns.consumers.consent_events import ConsentEventsHandler
from campaigns.store import ERASED_TTL_S, CampaignStore
from prometeo import clock
from prometeo.contracts import topics
from prometeo.permissions import MarketingPermissions
from prometeo.views import ErasureLog, replay


def rebuild_campaigns(store: CampaignStore, permissions: MarketingPermissions, bootstrap: str) -> Counter[str]:
    stats: Counter[str] = Counter()
    erasures = ErasureLog.read(bootstrap)
    now = clock.now()
    for ck, erased_at in erasures.still_erased().items():
        remaining = ERASED_TTL_S - int((now - erased_at).total_seconds())
        if remaining > 0:
            store.restore_erasure(ck, erased_at, remaining)
            stats["tombstones"] += 1
    replay(bootstrap, erasures, [(topics.CONSENT_EVENTS, ConsentEventsHandler(store, permissions))], stats)
    return stats
