"""outcomes.v1 → a decline starts the product's cooldown; an acceptance makes the product held; a
delivery (e.g. a campaign sequence's e-mail or SMS) is a contact for the weekly cap and repeat rule.
An acceptance of one of our offers is also a success for the response estimate of its product ×
channel × segment (learning from every response)."""

from next_best_action.response_store import ResponseStore
from next_best_action.store import NbaStore
from next_best_action.trigger_store import TriggerStore
from prometeo.contracts import Envelope, EventPayload
from prometeo.contracts.events import OutcomeKind, OutcomeRecordedV1


class OutcomesHandler:
    def __init__(self, store: NbaStore, responses: ResponseStore, triggers: TriggerStore | None = None) -> None:
        self._store = store
        self._responses = responses
        self._triggers = triggers

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        event_id, ck = str(envelope.event_id), envelope.customer_key
        if not isinstance(payload, OutcomeRecordedV1) or self._store.seen(event_id) or self._store.is_erased(ck):
            return
        if payload.outcome is OutcomeKind.DECLINED:
            self._store.record_decline(ck, payload.product, envelope.occurred_at)
        elif payload.outcome is OutcomeKind.ACCEPTED:
            self._store.record_acceptance(ck, payload.product)
            self._responses.credit_acceptance(ck, payload.offer_id, payload.product)
            if self._triggers is not None:  # starts the post-acquisition clock
                self._triggers.record_acquisition(ck, payload.product, envelope.occurred_at.date())
        elif payload.outcome is OutcomeKind.DELIVERED and payload.channel is not None:
            self._store.record_delivery(ck, payload.offer_id, payload.product, payload.channel, envelope.occurred_at)
        self._store.mark(event_id)
