"""The next-best-action views rebuilt from the log after a Redis loss (prometeo.views runs it).

Erasure first: tombstones of customers still erased come back (for what is left of their TTL) and no
event from before a customer's latest erasure is replayed. Then, each topic from its first offset
without a consumer group:

* consent-events.v1 → marketing permissions (the live handler);
* outcomes.v1 → declines (the cooldown), acceptances (held products), deliveries (contacts), each
  idempotent, so a rebuild over views that survived counts nothing twice;
* offers.v1 → contacts of the decisions published within the retention, so the weekly cap and the
  repeat rule hold after the loss. Advisor presentations are on offers.v1 too and count as contacts
  here: after a loss the cap errs on the side of contacting less.
"""

from __future__ import annotations

from collections import Counter

from next_best_action.consumers.consent_events import ConsentEventsHandler
from next_best_action.store import NbaStore
from prometeo import clock
from prometeo.bus.consumer import Handler
from prometeo.contracts import Envelope, EventPayload, topics
from prometeo.contracts.events import OfferDecidedV1, OutcomeKind, OutcomeRecordedV1
from prometeo.views import ErasureLog, replay


class OutcomeHistory:
    """outcomes.v1 → declines, acceptances and deliveries: the idempotent part of the live handler (a
    decline keeps its latest time, a contact its offer id). Learned response estimates are counters, not
    replayed (persisted with the AOF, docs/redis-keys.md)."""

    def __init__(self, store: NbaStore) -> None:
        self._store = store

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        ck = envelope.customer_key
        if not isinstance(payload, OutcomeRecordedV1) or self._store.is_erased(ck):
            return
        if payload.outcome is OutcomeKind.DECLINED:
            self._store.record_decline(ck, payload.product, envelope.occurred_at)
        elif payload.outcome is OutcomeKind.ACCEPTED:
            self._store.record_acceptance(ck, payload.product)
        elif payload.outcome is OutcomeKind.DELIVERED and payload.channel is not None:
            self._store.record_delivery(ck, payload.offer_id, payload.product, payload.channel, envelope.occurred_at)


class OfferContacts:
    """offers.v1 → the contact history (what was offered, on which channel, when)."""

    def __init__(self, store: NbaStore, retention_s: int) -> None:
        self._store = store
        self._retention_s = retention_s
        self._now = clock.now()

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        if not isinstance(payload, OfferDecidedV1) or not payload.offers:
            return
        if (self._now - envelope.occurred_at).total_seconds() > self._retention_s:
            return
        if self._store.is_erased(envelope.customer_key):
            return
        for offer in payload.offers:
            self._store.record_delivery(
                envelope.customer_key, offer.offer_id, offer.product, offer.channel, envelope.occurred_at
            )


def rebuild_nba(
    store: NbaStore,
    bootstrap: str,
    *,
    erased_ttl_s: int,
    contact_retention_s: int,
) -> Counter[str]:
    stats: Counter[str] = Counter()
    erasures = ErasureLog.read(bootstrap)
    now = clock.now()
    for ck, erased_at in erasures.still_erased().items():
        remaining = erased_ttl_s - int((now - erased_at).total_seconds())
        if remaining > 0:
            store.restore_erasure(ck, remaining)
            stats["tombstones"] += 1
    steps: list[tuple[str, Handler]] = [
        (topics.CONSENT_EVENTS, ConsentEventsHandler(store)),
        (topics.OUTCOMES, OutcomeHistory(store)),
        (topics.OFFERS, OfferContacts(store, contact_retention_s)),
    ]
    replay(bootstrap, erasures, steps, stats)
    return stats
