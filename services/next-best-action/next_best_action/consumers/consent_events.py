"""consent-events.v1 → marketing permissions per consent; a revoked, rejected or expired consent drops its own."""

from prometeo.contracts import Envelope, EventPayload
from prometeo.contracts.events import ConsentChangedV1, ConsentGrantedV1, ConsentStatus

from next_best_action.store import NbaStore

_ENDED = frozenset({ConsentStatus.REVOKED, ConsentStatus.REJECTED, ConsentStatus.EXPIRED})


class ConsentEventsHandler:
    def __init__(self, store: NbaStore) -> None:
        self._store = store

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        event_id, ck = str(envelope.event_id), envelope.customer_key
        if self._store.seen(event_id):
            return
        if isinstance(payload, ConsentGrantedV1):
            self._store.clear_erasure(ck)
            self._store.grant(ck, payload.consent_id, payload.marketing_channels)
        elif isinstance(payload, ConsentChangedV1) and payload.status in _ENDED:
            self._store.revoke(ck, payload.consent_id)
        self._store.mark(event_id)
