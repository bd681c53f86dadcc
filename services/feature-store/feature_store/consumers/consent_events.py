"""consent-events.v1 → a new consent lifts the refusal that followed an erasure."""

from feature_store.consumers.account_events import AccountEventsHandler
from feature_store.store import FeatureRepository
from prometeo.contracts import Envelope, EventPayload
from prometeo.contracts.events import ConsentGrantedV1


class ConsentEventsHandler:
    def __init__(self, repository: FeatureRepository, account_events: AccountEventsHandler) -> None:
        self._repository = repository
        self._account_events = account_events

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        if isinstance(payload, ConsentGrantedV1):
            # Buffered events that arrived before this consent must meet the state before it.
            self._account_events.flush()
            self._repository.clear_erasure(envelope.customer_key)
