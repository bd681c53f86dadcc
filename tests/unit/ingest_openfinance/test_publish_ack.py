"""Only what the broker acknowledged is `accepted`: unacknowledged events release their dedupe claims."""

from __future__ import annotations

from typing import Any, cast

import pytest

from ingest_openfinance.usecases.events import PublishFailed
from tests.unit.ingest_openfinance.test_ingest_mapped import FakeDedupe, FakeProducer, consented_ingestion

CPF = "12345678909"


def _event(sid: str) -> dict[str, Any]:
    return {
        "source": "core",
        "source_event_id": sid,
        "customer_id": CPF,
        "type": "transaction.booked",
        "version": 1,
        "occurred_at": "2026-11-01T10:00:00Z",
        "payload": {
            "account_id": "a1",
            "transaction_id": sid,
            "direction": "debit",
            "amount": "10.00",
            "currency": "BRL",
            "booked_at": "2026-11-01T10:00:00Z",
        },
    }


def test_an_unacknowledged_event_releases_its_claim_and_the_retry_is_published() -> None:
    dedupe = FakeDedupe()
    ingestion, _ = consented_ingestion(CPF, dedupe)
    broken = FakeProducer(refuse=lambda event: event.payload["transaction_id"] == "t2")
    ingestion._producer = cast(Any, broken)  # the broker acknowledges t1 only

    with pytest.raises(PublishFailed) as failed:
        ingestion.ingest([_event("t1"), _event("t2")])
    assert failed.value.count == 1
    assert ("core", "t1") in dedupe.seen, "the acknowledged event keeps its claim"
    assert ("core", "t2") not in dedupe.seen, "the unacknowledged one is released for the retry"

    healthy = FakeProducer()
    ingestion._producer = cast(Any, healthy)
    results = ingestion.ingest([_event("t1"), _event("t2")])
    assert [r.status.value for r in results] == ["duplicate", "accepted"]
    assert [e.payload["transaction_id"] for _, e in healthy.sent] == ["t2"]
