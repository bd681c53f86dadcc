"""The batch path builds envelopes and event ids without pydantic's second pass: they must be exactly
what the validated constructors give, byte for byte on the wire."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from ingest_openfinance.usecases.events import _EVENT_NAMESPACE, event_id_for, event_id_text
from prometeo.contracts import Envelope, new_event
from tests.unit.ingest_openfinance.test_ingest_mapped import consented_ingestion
from tests.unit.ingest_openfinance.test_publish_ack import CPF, _event


@pytest.mark.parametrize(
    ("source", "sid"), [("core", "t1"), ("bb|cards", "9846|2026-11-20|ç→€"), ("s", ""), ("x" * 128, "y" * 256)]
)
def test_event_ids_are_the_uuid5_of_source_and_id(source: str, sid: str) -> None:
    assert event_id_for(source, sid) == uuid.uuid5(_EVENT_NAMESPACE, f"{source}\x00{sid}")
    assert event_id_text(source, sid) == str(uuid.uuid5(_EVENT_NAMESPACE, f"{source}\x00{sid}"))


@pytest.mark.parametrize(
    "occurred_at",
    ["2026-11-01T10:00:00Z", "2026-11-01T10:00:00.123456+00:00", "2026-11-01T07:00:00-03:00", "2026-11-01T10:00:00"],
)
def test_a_batch_envelope_is_the_validated_envelope(occurred_at: str) -> None:
    ingestion, producer = consented_ingestion(CPF)
    ingestion.ingest([{**_event("t1"), "occurred_at": occurred_at}])
    [(_, fast)] = producer.sent
    slow = new_event(
        fast.typed(),
        customer_key=fast.customer_key,
        source="core",
        occurred_at=datetime.fromisoformat(occurred_at),
        event_id=event_id_for("core", "t1"),
    ).model_copy(update={"ingested_at": fast.ingested_at})
    assert fast.to_bytes() == slow.to_bytes()
    assert fast.key == slow.key
    assert Envelope.model_validate_json(fast.to_bytes()) == slow


def test_offsets_survive_the_batch_envelope() -> None:
    at = datetime(2026, 11, 1, 7, tzinfo=timezone(timedelta(hours=-3)))
    ingestion, producer = consented_ingestion(CPF)
    ingestion.ingest([{**_event("t2"), "occurred_at": at.isoformat()}])
    [(_, fast)] = producer.sent
    decoded = Envelope.model_validate_json(fast.to_bytes())
    assert decoded.occurred_at == at.astimezone(UTC) and decoded.occurred_at.utcoffset() == timedelta(hours=-3)
