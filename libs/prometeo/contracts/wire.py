"""An envelope written straight to its wire bytes, for the batch paths that publish thousands a request.

`Envelope.to_bytes()` of an envelope built from a typed payload first dumps the payload to a dict, builds
the model, then serialises the dict again by inference: three passes over every event. `encode` does one,
the payload model's own `model_dump_json`, and joins it with the envelope's other fields serialised by
the same pydantic-core serializer (`to_json`), in the envelope's field order. The bytes are the ones
`Envelope.to_bytes()` gives for the same fields (tests/unit/contracts/test_wire.py compares them)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic_core import to_json

from prometeo.contracts.envelope import Envelope, EventPayload


class EncodedEvent:
    """An envelope in its wire form, with what publishing needs (type, key, bytes) at hand. Reading any
    other envelope attribute decodes the bytes once (tests and fakes look at what was published)."""

    __slots__ = ("_decoded", "event_id", "key", "type", "value")

    def __init__(self, event_id: str, event_type: str, key: bytes, value: bytes) -> None:
        self.event_id = event_id
        self.type = event_type
        self.key = key
        self.value = value
        self._decoded: Envelope | None = None

    def to_bytes(self) -> bytes:
        return self.value

    def envelope(self) -> Envelope:
        if self._decoded is None:
            self._decoded = Envelope.model_validate_json(self.value)
        return self._decoded

    def __getattr__(self, name: str) -> Any:
        # Only reached for names not on the slots above: payload, customer_key, typed, model_dump_json, …
        # Private names are never the envelope's (and copy/pickle probe them before __init__ has run).
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.envelope(), name)


class EnvelopeEncoder:
    """Encodes the envelopes of one batch; what repeats across it (a customer key, a source, the type, the
    ingestion instant) is serialised once. Payloads naming a `compaction_field` go through `Envelope`, whose
    key joins that field's dumped value."""

    def __init__(self, ingested_at: datetime) -> None:
        self._ingested_at = ingested_at
        self._ingested_json = to_json(ingested_at)
        self._strings: dict[str, bytes] = {}

    def _string(self, text: str) -> bytes:
        encoded = self._strings.get(text)
        if encoded is None:
            encoded = self._strings[text] = to_json(text)
        return encoded

    def encode(
        self,
        payload: EventPayload,
        *,
        event_id: str,
        occurred_at: datetime,
        customer_key: str,
        source: str,
    ) -> EncodedEvent:
        """`event_id`: the UUID's canonical text (lowercase, hyphenated), as the envelope writes it."""
        if payload.compaction_field is not None:
            return _via_envelope(payload, event_id, occurred_at, self._ingested_at, customer_key, source)
        # model_dump_json, without its str round trip: the serializer's bytes as they are.
        payload_json = payload.__pydantic_serializer__.to_json(payload)
        value = b"".join(
            (
                b'{"event_id":"',
                event_id.encode(),
                b'","type":',
                self._string(payload.event_type),
                b',"version":',
                str(payload.event_version).encode(),
                b',"occurred_at":',
                to_json(occurred_at),
                b',"ingested_at":',
                self._ingested_json,
                b',"customer_key":',
                self._string(customer_key),
                b',"source":',
                self._string(source),
                b',"payload":',
                payload_json,
                b"}",
            )
        )
        return EncodedEvent(event_id, payload.event_type, customer_key.encode(), value)


def _via_envelope(
    payload: EventPayload, event_id: str, occurred_at: datetime, ingested_at: datetime, ck: str, source: str
) -> EncodedEvent:
    envelope = Envelope.model_construct(
        event_id=uuid.UUID(event_id),
        type=payload.event_type,
        version=payload.event_version,
        occurred_at=occurred_at,
        ingested_at=ingested_at,
        customer_key=ck,
        source=source,
        payload=payload.model_dump(mode="json"),
    )
    return EncodedEvent(event_id, envelope.type, envelope.key, envelope.to_bytes())
