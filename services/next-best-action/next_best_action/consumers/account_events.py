"""account-events.v1 → moments that matter: a contract nearing maturity or renewal and a returned
payment produce their actions (moments.py); a product acquired here starts the post-acquisition clock."""

from __future__ import annotations

from typing import ClassVar

from next_best_action.domain.triggers import from_account_event
from next_best_action.moments import MomentRunner
from next_best_action.policy_source import PolicySource
from next_best_action.store import NbaStore
from next_best_action.trigger_store import TriggerStore
from prometeo import clock
from prometeo.contracts import Envelope, EventPayload
from prometeo.contracts.events import ContractMaturingV1, PaymentReturnedV1, ProductHeldV1


class AccountEventsHandler:
    # The only types it acts on: the consumer loop passes over the rest of the stream (bookings, balances,
    # the bulk of it) without decoding them (`ConsumerLoop(acts_on=...)`). `from_account_event` reads these.
    EVENT_TYPES: ClassVar[frozenset[str]] = frozenset(
        {ProductHeldV1.event_type, ContractMaturingV1.event_type, PaymentReturnedV1.event_type}
    )

    def __init__(self, store: NbaStore, triggers: TriggerStore, policies: PolicySource, runner: MomentRunner) -> None:
        self._store = store
        self._triggers = triggers
        self._policies = policies
        self._runner = runner

    def __call__(self, envelope: Envelope, payload: EventPayload) -> None:
        ck = envelope.customer_key
        # The erasure check is a Redis round trip: asked only of the few events that act, not of every
        # booking (this consumer sees the whole account-event stream, ahead of the scores in its polls).
        if isinstance(payload, ProductHeldV1) and not payload.at_other_institution:
            if not self._store.is_erased(ck):
                self._triggers.record_acquisition(ck, payload.product, payload.since or envelope.occurred_at.date())
            return
        # The moment is judged at the event's time (a maturity window is about when it was reported);
        # the claim by trigger key, not the event id, is what makes a redelivery produce nothing new.
        moments = from_account_event(payload, envelope.occurred_at, self._policies.current())
        if moments and not self._store.is_erased(ck):
            self._runner.run(ck, moments, clock.now())
