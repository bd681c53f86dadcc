"""The gateway's customer-scope view (and the portfolio membership index beside it) rebuilt from the log
after a Redis loss (prometeo.views).

Erasure first: customers still erased get their `erased_at` scope back, so no replayed profile brings
an erased customer's scope back; then the profile events of account-events.v1 from its first offset,
without a consumer group, through the live handler (the newest profile wins, as live).
"""

from __future__ import annotations

from collections import Counter

from gateway.consumers.account_events import AccountEventsHandler
from gateway.portfolios import PortfolioWriter
from gateway.scopes import ScopeWriter
from prometeo.contracts import topics
from prometeo.views import ErasureLog, replay


def rebuild_scopes(scopes: ScopeWriter, bootstrap: str, portfolios: PortfolioWriter | None = None) -> Counter[str]:
    stats: Counter[str] = Counter()
    erasures = ErasureLog.read(bootstrap)
    for ck, erased_at in erasures.still_erased().items():
        scopes.erase(ck, erased_at)
        stats["tombstones"] += 1
    replay(bootstrap, erasures, [(topics.ACCOUNT_EVENTS, AccountEventsHandler(scopes, portfolios))], stats)
    return stats
