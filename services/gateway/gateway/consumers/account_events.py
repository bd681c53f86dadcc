"""account-events.v1 → each customer's branch and advisor (`customer.profiled`, corrected by
`customer.rectified`); other events are not ours."""

from __future__ import annotations

from typing import ClassVar

from gateway.portfolios import PortfolioWriter
from gateway.scopes import ScopeWriter
from prometeo.contracts import Envelope, EventPayload
from prometeo.contracts.events import CustomerProfiledV1, CustomerRectifiedV1


class AccountEventsHandler:
    # The only types it acts on: the consumer loop passes over the rest of the stream without decoding it
    # (`ConsumerLoop(acts_on=...)`).
    EVENT_TYPES: ClassVar[frozenset[str]] = frozenset({CustomerProfiledV1.event_type, CustomerRectifiedV1.event_type})

    def __init__(self, scopes: ScopeWriter, portfolios: PortfolioWriter | None = None) -> None:
        self._scopes = scopes
        self._portfolios = portfolios

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        if isinstance(payload, CustomerProfiledV1):
            # Idempotent: the stored profile's time wins over an older or redelivered one.
            ck = envelope.customer_key
            saved = self._scopes.save(ck, payload.branch_id, payload.advisor_id, envelope.occurred_at)
            if saved and self._portfolios is not None:
                # Who is in whose portfolio, for the people's own lists (the console's "today").
                self._portfolios.add(ck, payload.branch_id, payload.advisor_id, payload.digital_archetype)
        elif isinstance(payload, CustomerRectifiedV1) and (payload.branch_id or payload.advisor_id):
            # Only the corrected field changes: the other keeps what the profile said.
            branch, advisor = self._scopes.current(envelope.customer_key)
            self._scopes.save(
                envelope.customer_key,
                payload.branch_id or branch,
                payload.advisor_id or advisor,
                envelope.occurred_at,
            )
