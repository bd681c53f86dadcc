"""customer-erasure.v1 → the customer's campaign keys go; aggregate KPI counters (not personal) stay."""

import logging

from campaigns.store import CampaignStore
from prometeo.contracts import Envelope, EventPayload
from prometeo.telemetry.metrics import ERASURES

log = logging.getLogger(__name__)


class CustomerErasureHandler:
    def __init__(self, store: CampaignStore) -> None:
        self._store = store

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        deleted = self._store.erase(envelope.customer_key, envelope.occurred_at)
        ERASURES.labels("campaigns").inc()
        log.info("customer erased", extra={"customer_key": envelope.customer_key, "keys_deleted": deleted})
