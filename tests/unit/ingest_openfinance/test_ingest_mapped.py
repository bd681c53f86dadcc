"""EventIngestion.ingest_mapped with in-memory fakes: mapping errors and gated items keep their source index."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from ingest_openfinance.domain.consent import ConsentRecord
from ingest_openfinance.domain.mappers.brasil import Resource, map_resource
from ingest_openfinance.usecases.events import EventIngestion
from prometeo.contracts.events import ConsentStatus, DataScope, Purpose
from prometeo.identity import customer_key

SECRET = "unit-secret"


class _Done:
    def get(self, timeout: float) -> None:
        return None


class FakeProducer:
    """The EventProducer surface ingestion uses; every send is acknowledged unless `refuse` says no."""

    ack_wait_s = 1.0
    generation = 0

    def __init__(self, refuse: Callable[[Any], bool] | None = None) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.refused: list[Any] = []
        self.failures = 0
        self._refuse = refuse or (lambda _event: False)

    def publish(self, topic: str, event: Any) -> _Done:
        if self._refuse(event):
            self.refused.append(event)
            return _Refused()
        self.sent.append((topic, event))
        return _Done()

    def publish_many(self, topic: str, events: list[Any]) -> list[_Done]:
        return [self.publish(topic, event) for event in events]

    def wait_acks(self, futures: list[Any], deadline: float, generation: int | None = None) -> list[bool]:
        outcomes = [not isinstance(f, _Refused) for f in futures]
        self.failures += outcomes.count(False)
        return outcomes

    def failed(self, exc: BaseException, generation: int) -> None:
        self.failures += 1

    def flush(self) -> None:
        return None


class _Refused(_Done):
    """A send the broker never acknowledged."""


class FakeConsents:
    def __init__(self, allowed: dict[str, list[ConsentRecord]]) -> None:
        self._allowed = allowed

    def for_customers(self, cks: list[str]) -> dict[str, list[ConsentRecord]]:
        return {ck: self._allowed.get(ck, []) for ck in cks}


class FakeDedupe:
    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    def claim(self, ids: list[tuple[str, str]]) -> list[bool]:
        out = []
        for i in ids:
            out.append(i not in self.seen)
            self.seen.add(i)
        return out

    def release(self, ids: list[tuple[str, str]]) -> None:
        self.seen.difference_update(ids)


def fake_ingestion(producer: FakeProducer, consents: FakeConsents, dedupe: FakeDedupe | None = None) -> EventIngestion:
    """The ingestion use case on in-memory fakes of its three edges (producer, consent view, dedupe window)."""
    return EventIngestion(cast(Any, producer), cast(Any, consents), cast(Any, dedupe or FakeDedupe()), SECRET)


def consented_ingestion(customer_id: str, dedupe: FakeDedupe | None = None) -> tuple[EventIngestion, FakeProducer]:
    """The ingestion use case for one customer holding an authorised cross-sell consent to every data scope."""
    consent = ConsentRecord(
        consent_id="c",
        institution="bank",
        scopes=frozenset(DataScope),
        purposes=frozenset({Purpose.CROSS_SELL_ANALYTICS}),
        status=ConsentStatus.AUTHORISED,
    )
    producer = FakeProducer()
    consents = FakeConsents({customer_key(customer_id, SECRET): [consent]})
    return fake_ingestion(producer, consents, dedupe), producer


def test_indices_and_counts_line_up_with_source_records() -> None:
    consent = ConsentRecord(
        consent_id="c1",
        institution="bb",
        scopes=frozenset({DataScope.TRANSACTIONS}),
        purposes=frozenset({Purpose.CROSS_SELL_ANALYTICS}),
        status=ConsentStatus.AUTHORISED,
    )
    producer = FakeProducer()
    consents = FakeConsents({customer_key("12345678909", SECRET): [consent]})
    ingestor = fake_ingestion(producer, consents)
    document = {
        "data": [
            {"transactionId": "t1", "creditDebitType": "DEBITO", "amount": "5.00", "transactionDate": "2026-11-01"},
            {"transactionId": "t2", "creditDebitType": "DEBITO", "amount": "1,00", "transactionDate": "2026-11-01"},
            {"transactionId": "t1", "creditDebitType": "DEBITO", "amount": "5.00", "transactionDate": "2026-11-01"},
            {
                "transactionId": "t3",
                "creditDebitType": "CREDITO",
                "amount": "9.99",
                "transactionDate": "2026-11-02",
                "type": "FOLHA_PAGAMENTO",
                "partieCnpjCpf": "98765432100",
            },
        ]
    }
    now = datetime.fromisoformat("2026-11-23T00:00:00+00:00")
    mapped = map_resource(
        Resource.ACCOUNT_TRANSACTIONS,
        document,
        customer_id="123.456.789-09",
        institution="bb",
        parent_id="acc",
        now=now,
    )
    results = ingestor.ingest_mapped(mapped.items)
    assert [(r.index, r.status.value) for r in results] == [
        (0, "accepted"),
        (1, "invalid"),
        (2, "duplicate"),
        (3, "accepted"),
    ]
    assert results[1].reason and "data.1.amount" in results[1].reason
    assert len(producer.sent) == 2
    published = " ".join(event.model_dump_json() for _, event in producer.sent)
    assert "98765432100" not in published and "12345678909" not in published
    assert '"is_payroll":true' in published

    refused = map_resource(
        Resource.ACCOUNT_TRANSACTIONS, document, customer_id="someone-else", institution="bb", parent_id="acc", now=now
    )
    assert [r.status.value for r in ingestor.ingest_mapped(refused.items)] == [
        "refused_no_consent",
        "invalid",
        "refused_no_consent",
        "refused_no_consent",
    ]
