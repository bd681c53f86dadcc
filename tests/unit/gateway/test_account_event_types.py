"""The gateway's account-events consumer declares the types it acts on; the consumer loop passes over the
others without decoding them, which must be exactly what the handler does with them: nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gateway.consumers.account_events import AccountEventsHandler
from prometeo.contracts import Envelope, payload_model, registered_types


class _Untouchable:
    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"handler used {name} for an event it does not act on")


def test_the_handler_ignores_every_type_it_does_not_declare() -> None:
    untouchable: Any = _Untouchable()
    handler = AccountEventsHandler(untouchable, untouchable)
    skipped = [(t, v) for t, v in registered_types() if t not in AccountEventsHandler.EVENT_TYPES]
    assert ("transaction.booked", 1) in skipped and ("customer.profiled", 1) not in skipped
    at = datetime(2026, 11, 20, 12, tzinfo=UTC)
    for event_type, version in skipped:
        envelope = Envelope(
            type=event_type, version=version, occurred_at=at, customer_key="ck_00000001", source="t", payload={}
        )
        handler(envelope, payload_model(event_type, version).model_construct())
