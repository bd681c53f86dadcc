"""consent-events.v1 → the Redis consent and marketing-permission views (other instances' writes; the
rebuild after a Redis loss replays the topic through this handler, see ingest_openfinance.rebuild)."""

from __future__ import annotations

from ingest_openfinance.domain.consent import ConsentRecord
from ingest_openfinance.domain.marketing import MarketingRecord
from ingest_openfinance.store import ConsentStore
from prometeo.contracts import Envelope, EventPayload
from prometeo.contracts.events import (
    ConsentChangedV1,
    ConsentGrantedV1,
    ConsentStatus,
    MarketingPermissionChangedV1,
    ProfilingObjectionChangedV1,
)


class ConsentEventsHandler:
    def __init__(self, store: ConsentStore) -> None:
        self._store = store

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        ck = envelope.customer_key
        # Events from before the customer's erasure must not rebuild what it removed (checked atomically).
        when = envelope.occurred_at
        if isinstance(payload, ConsentGrantedV1):
            self._store.put(
                ck,
                ConsentRecord(
                    consent_id=payload.consent_id,
                    institution=payload.institution,
                    scopes=frozenset(payload.scopes),
                    purposes=frozenset(payload.purposes),
                    status=ConsentStatus.AUTHORISED,
                    expires_at=payload.expires_at,
                    marketing_channels=tuple(payload.marketing_channels),
                    jurisdiction=payload.jurisdiction,
                ),
                occurred_at=when,
            )
        elif isinstance(payload, ConsentChangedV1):
            current = next((c for c in self._store.for_customers([ck])[ck] if c.consent_id == payload.consent_id), None)
            if current is not None and current.status != payload.status:
                self._store.put(ck, current.model_copy(update={"status": payload.status}), occurred_at=when)
        elif isinstance(payload, ProfilingObjectionChangedV1) and not self._store.erased_after(ck, when):
            self._store.put_objection(ck, payload.objected)
        elif isinstance(payload, MarketingPermissionChangedV1):
            record = MarketingRecord(
                permission=payload.permission, source=payload.source, registry=payload.registry, updated_at=when
            )
            self._store.put_marketing(ck, payload.channel.value, record, occurred_at=when)
