"""customer-erasure.v1 → the customer's scope is deleted (and a replayed old profile cannot bring it back), and
they leave every portfolio index."""

from __future__ import annotations

from gateway.portfolios import PortfolioWriter
from gateway.scopes import ScopeWriter
from prometeo.contracts import Envelope, EventPayload
from prometeo.telemetry.metrics import ERASURES


class CustomerErasureHandler:
    def __init__(self, scopes: ScopeWriter, portfolios: PortfolioWriter | None = None) -> None:
        self._scopes = scopes
        self._portfolios = portfolios

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        self._scopes.erase(envelope.customer_key, envelope.occurred_at)
        if self._portfolios is not None:
            self._portfolios.remove(envelope.customer_key)
        ERASURES.labels("gateway").inc()
