"""consent-events.v1 → a new consent lifts the refusal that followed an erasure."""

from prometeo.contracts import Envelope, EventPayload
from prometeo.contracts.events import ConsentGrantedV1

from feature_store.store import FeatureRepository


class ConsentEventsHandler:
    def __init__(self, repository: FeatureRepository) -> None:
        self._repository = repository

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        if isinstance(payload, ConsentGrantedV1):
            self._repository.clear_erasure(envelope.customer_key)
