import json

import pytest

from prometeo.contracts import InvalidEvent, decode, registered_types
from prometeo.contracts.topics import ALL_TOPICS, dead_letter_topic
from tests.factories import booked


def test_envelope_round_trips_through_bytes() -> None:
    event = booked("ck_roundtrip_1", "12.34")
    envelope, payload = decode(event.to_bytes())
    assert envelope == event
    assert str(payload.amount) == "12.34"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "envelope invalid"),
        (None, "empty message value"),
        (json.dumps({"type": "nope", "occurred_at": "2026-01-01T00:00:00Z", "customer_key": "ck_12345678",
                     "source": "t", "payload": {}}).encode(), "unknown event type"),
    ],
)
def test_decode_names_the_reason(raw: bytes | None, reason: str) -> None:
    with pytest.raises(InvalidEvent, match=reason):
        decode(raw)


def test_payload_errors_carry_field_paths() -> None:
    data = json.loads(booked("ck_fieldpath1").to_bytes())
    data["payload"]["amount"] = "-5"
    with pytest.raises(InvalidEvent, match="amount"):
        decode(json.dumps(data).encode())


def test_every_topic_is_versioned_and_has_a_dlq() -> None:
    assert all(t.endswith(".v1") for t in ALL_TOPICS)
    assert dead_letter_topic("offers.v1") == "offers.v1.dlq"
    assert ("transaction.booked", 1) in registered_types()
