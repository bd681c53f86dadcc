"""consent-events.v1 → the marketing-permission view (prometeo.permissions): channels granted with a
consent (dropped when it ends) and explicit per-channel opt-ins and opt-outs, which win."""

from next_best_action.store import NbaStore
from prometeo.contracts import Envelope, EventPayload
from prometeo.contracts.events import ConsentGrantedV1, ProfilingObjectionChangedV1


class ConsentEventsHandler:
    def __init__(self, store: NbaStore) -> None:
        self._store = store

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        event_id, ck = str(envelope.event_id), envelope.customer_key
        if self._store.seen(event_id):
            return
        if isinstance(payload, ConsentGrantedV1):
            self._store.clear_erasure(ck)  # a new consent lifts the erasure tombstone
        self._store.marketing.apply(ck, payload)
        if isinstance(payload, ProfilingObjectionChangedV1) and payload.objected:
            self._store.drop_scores(ck)  # the profile derived so far goes with the objection
        self._store.mark(event_id)
