"""customer-erasure.v1 → every feature key of the customer is deleted and later events refused."""

import logging

from feature_store.batch import PendingBatch
from feature_store.store import FeatureRepository
from prometeo.contracts import Envelope, EventPayload
from prometeo.telemetry.metrics import ERASURES

log = logging.getLogger(__name__)


class CustomerErasureHandler:
    def __init__(self, repository: FeatureRepository, batch: PendingBatch) -> None:
        self._repository = repository
        self._batch = batch

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        self._batch.flush_before_erasure(envelope.customer_key)
        deleted = self._repository.erase(envelope.customer_key)
        ERASURES.labels("feature-store").inc()
        log.info("customer erased", extra={"customer_key": envelope.customer_key, "keys_deleted": deleted})
