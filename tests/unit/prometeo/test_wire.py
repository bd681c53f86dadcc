"""EnvelopeEncoder writes envelopes without building them: its bytes and key must be exactly what the
validated `new_event(...).to_bytes()` gives for the same fields, whatever the strings, numbers or instants."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from prometeo.contracts import Envelope, EventPayload, new_event, payload_model
from prometeo.contracts.wire import EncodedEvent, EnvelopeEncoder

_AWKWARD = 'quote " backslash \\ newline \n tab \t nul \x00 del \x7f ç→€ 😀 </script>'

PAYLOADS: list[tuple[str, dict[str, Any]]] = [
    (
        "transaction.booked",
        {
            "account_id": _AWKWARD,
            "transaction_id": "t1",
            "direction": "debit",
            "amount": "12.3400",
            "booked_at": "2026-11-20T12:00:00.000001-03:00",
            "mcc": "5411",
        },
    ),
    (
        "scores.computed",
        {
            "model_name": _AWKWARD,
            "model_version": "7",
            "feature_set_version": "v3",
            "scores": [
                {
                    "product": "credit_card",
                    "propensity": 0.1,
                    "reasons": [{"code": "c", "text_en": "é", "text_es": "ñ", "weight": -1e-7}],
                }
            ],
            "features": {"a": 1e20, "b": 0.30000000000000004, "c": 3.0, "d": -0.0, "e": 123456789.125},
        },
    ),
    (
        "features.updated",
        {
            "feature_set_version": "customer-features.v1",
            "as_of": "2026-11-20T12:00:00.000001Z",
            "features": {"txn_count_30d": 3.0, "balance_avg_90d": 1234.5, "f": 1e-9, "g": float(2**53)},
            "held_products": ["savings"],
            "held_elsewhere": ["credit_card"],
            "profile": {"digital_archetype": _AWKWARD, "age_band": "35-44"},
        },
    ),
    # A compaction field: the key joins the consent id (the encoder goes through Envelope for these).
    ("consent.changed", {"consent_id": "urn:c|1", "status": "revoked", "reason": _AWKWARD}),
]

INSTANTS = [
    datetime(2026, 11, 1, 10, tzinfo=UTC),
    datetime(2026, 11, 1, 10, 0, 0, 123456, tzinfo=UTC),
    datetime(2026, 11, 1, 7, tzinfo=timezone(timedelta(hours=-3))),
    datetime(2026, 11, 1, 10, 0, 0, 500000, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(2026, 11, 1, 10),  # naive, as a source may send it
]


def _payload(event_type: str, raw: dict[str, Any]) -> EventPayload:
    return payload_model(event_type, 1).model_validate(raw)


@pytest.mark.parametrize(("event_type", "raw"), PAYLOADS)
@pytest.mark.parametrize("occurred_at", INSTANTS)
@pytest.mark.parametrize("source", ["core", _AWKWARD])
def test_encoded_bytes_are_the_validated_envelopes(
    event_type: str, raw: dict[str, Any], occurred_at: datetime, source: str
) -> None:
    payload = _payload(event_type, raw)
    ingested_at = datetime(2026, 11, 2, 1, 2, 3, 456789, tzinfo=UTC)
    event_id = uuid.uuid4()
    ck = "ck_" + "0123456789abcdef" * 2
    encoded = EnvelopeEncoder(ingested_at).encode(
        payload, event_id=str(event_id), occurred_at=occurred_at, customer_key=ck, source=source
    )
    validated = new_event(
        payload, customer_key=ck, source=source, occurred_at=occurred_at, event_id=event_id
    ).model_copy(update={"ingested_at": ingested_at})
    assert encoded.to_bytes() == validated.to_bytes()
    assert encoded.key == validated.key
    assert encoded.type == validated.type and encoded.event_id == str(event_id)


def test_one_encoder_serves_a_whole_batch() -> None:
    """What it caches (strings, the instant) must not leak from one event into the next."""
    encoder = EnvelopeEncoder(datetime(2026, 11, 2, tzinfo=UTC))
    payload = _payload(*PAYLOADS[0])
    first = encoder.encode(
        payload, event_id=str(uuid.uuid4()), occurred_at=INSTANTS[0], customer_key="ck_aaaaaaaa", source="a"
    )
    second = encoder.encode(
        payload, event_id=str(uuid.uuid4()), occurred_at=INSTANTS[2], customer_key="ck_bbbbbbbb", source="b"
    )
    one, two = Envelope.model_validate_json(first.to_bytes()), Envelope.model_validate_json(second.to_bytes())
    assert (one.customer_key, one.source, one.occurred_at) == ("ck_aaaaaaaa", "a", INSTANTS[0])
    assert (two.customer_key, two.source, two.occurred_at) == ("ck_bbbbbbbb", "b", INSTANTS[2])


def test_an_encoded_event_reads_as_the_envelope_it_encodes() -> None:
    payload = _payload(*PAYLOADS[0])
    encoded = EnvelopeEncoder(datetime(2026, 11, 2, tzinfo=UTC)).encode(
        payload, event_id=str(uuid.uuid4()), occurred_at=INSTANTS[0], customer_key="ck_aaaaaaaa", source="core"
    )
    assert isinstance(encoded, EncodedEvent)
    assert encoded.payload["account_id"] == _AWKWARD
    assert encoded.typed() == payload
    assert encoded.customer_key == "ck_aaaaaaaa"


def test_an_encoded_event_copies_and_pickles() -> None:
    import copy
    import pickle

    encoded = EnvelopeEncoder(datetime(2026, 11, 2, tzinfo=UTC)).encode(
        _payload(*PAYLOADS[0]), event_id=str(uuid.uuid4()), occurred_at=INSTANTS[0], customer_key="ck_a", source="s"
    )
    for twin in (copy.copy(encoded), pickle.loads(pickle.dumps(encoded))):
        assert twin.to_bytes() == encoded.to_bytes() and twin.key == encoded.key
