"""consent-events.v1 → campaigns' own marketing-permission view (prometeo.permissions), which sequence
steps check before they send: channels granted with a consent, explicit opt-ins and opt-outs."""

from campaigns.store import CampaignStore
from prometeo.contracts import Envelope, EventPayload
from prometeo.permissions import MarketingPermissions


class ConsentEventsHandler:
    def __init__(self, store: CampaignStore, permissions: MarketingPermissions) -> None:
        self._store = store
        self._permissions = permissions

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        # An event older than the customer's erasure must not rebuild what the erasure removed.
        if self._store.erased_after(envelope.customer_key, envelope.occurred_at):
            return
        self._permissions.apply(envelope.customer_key, payload)
