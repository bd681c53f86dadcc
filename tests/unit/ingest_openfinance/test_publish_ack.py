"""Only what the broker acknowledged is `accepted`: unacknowledged events release their dedupe claims."""

from __future__ import annotations

from typing import Any, cast

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from ingest_openfinance.api.body import json_body
from ingest_openfinance.usecases.events import PublishFailed
from prometeo.web.problems import install_problem_handlers
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


def test_a_body_nested_too_deeply_for_the_parser_is_422_not_500() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/echo")
    async def echo(request: Request) -> Any:
        return await json_body(request, 10_000_000)

    deep = "[" * 200_000 + "]" * 200_000
    response = TestClient(app, raise_server_exceptions=False).post(
        "/echo", content=deep, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == "body nested too deeply"
