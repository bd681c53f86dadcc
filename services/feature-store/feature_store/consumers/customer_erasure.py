"""customer-erasure.v1 → every feature key of the customer is deleted and later events refused."""

import logging

from feature_store.consumers.account_events import AccountEventsHandler
from feature_store.publisher import FeaturesPublisher
from feature_store.store import FeatureRepository
from prometeo.contracts import Envelope, EventPayload
from prometeo.telemetry.metrics import ERASURES

log = logging.getLogger(__name__)


class CustomerErasureHandler:
    def __init__(
        self, repository: FeatureRepository, publisher: FeaturesPublisher, account_events: AccountEventsHandler
    ) -> None:
        self._repository = repository
        self._publisher = publisher
        self._account_events = account_events

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        self._account_events.flush()  # keep the order of events buffered before the erasure
        self._publisher.forget(envelope.customer_key)
        deleted = self._repository.erase(envelope.customer_key)
        ERASURES.labels("feature-store").inc()
        log.info("customer erased", extra={"customer_key": envelope.customer_key, "keys_deleted": deleted})
