"""customer-erasure.v1 → the customer's scope is deleted (and a replayed old profile cannot bring it back)."""

from __future__ import annotations

from gateway.scopes import ScopeWriter
from prometeo.contracts import Envelope, EventPayload
from prometeo.telemetry.metrics import ERASURES


class CustomerErasureHandler:
    def __init__(self, scopes: ScopeWriter) -> None:
        self._scopes = scopes

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        self._scopes.erase(envelope.customer_key, envelope.occurred_at)
        ERASURES.labels("gateway").inc()
