"""customer-erasure.v1 → every nba key of the customer is deleted."""

import logging

from next_best_action.store import NbaStore
from prometeo.contracts import Envelope, EventPayload
from prometeo.telemetry.metrics import ERASURES

log = logging.getLogger(__name__)


class CustomerErasureHandler:
    def __init__(self, store: NbaStore) -> None:
        self._store = store

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        deleted = self._store.erase(envelope.customer_key)  # idempotent: a redelivery deletes nothing more
        ERASURES.labels("next-best-action").inc()
        log.info("customer erased", extra={"customer_key": envelope.customer_key, "keys_deleted": deleted})
