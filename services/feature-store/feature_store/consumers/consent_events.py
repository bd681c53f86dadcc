"""consent-events.v1 → a new consent lifts the refusal that followed an erasure; an objection to
profiling stops (and its withdrawal resumes) publishing the customer's features."""

from feature_store.batch import PendingBatch
from feature_store.store import FeatureRepository
from prometeo.contracts import Envelope, EventPayload
from prometeo.contracts.events import ConsentGrantedV1, ProfilingObjectionChangedV1


class ConsentEventsHandler:
    def __init__(self, repository: FeatureRepository, batch: PendingBatch) -> None:
        self._repository = repository
        self._batch = batch

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        if isinstance(payload, ConsentGrantedV1):
            self._batch.flush_before_consent()
            self._repository.clear_erasure(envelope.customer_key)
        elif isinstance(payload, ProfilingObjectionChangedV1):
            self._batch.flush_before_consent()
            self._repository.set_objection(envelope.customer_key, payload.objected)
