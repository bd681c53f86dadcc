"""The one envelope every event travels in. JSON on the wire.

Message key = customer_key, or `customer_key|<value>` for payloads that name a `compaction_field`
(a consent, a marketing channel): on a compacted topic each of those keeps its own latest record, and
the producer's partitioner hashes only the customer part, so a customer's events stay in order."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from prometeo import clock


class InvalidEvent(ValueError):
    """The bytes can never become a valid event: they belong in the dead-letter topic."""


class EventPayload(BaseModel):
    """Base of every versioned payload. Subclasses set `event_type` and `event_version`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1
    # On a compacted topic, the payload field whose value joins the customer in the message key.
    compaction_field: ClassVar[str | None] = None


KEY_SEPARATOR = b"|"


def customer_part(key: bytes) -> bytes:
    """The customer_key of a message key (what partitioning hashes)."""
    return key.split(KEY_SEPARATOR, 1)[0]


_REGISTRY: dict[tuple[str, int], type[EventPayload]] = {}


def register(payload_cls: type[EventPayload]) -> type[EventPayload]:
    """Class decorator: make a payload model resolvable from (type, version)."""
    _REGISTRY[(payload_cls.event_type, payload_cls.event_version)] = payload_cls
    return payload_cls


def payload_model(event_type: str, version: int) -> type[EventPayload]:
    try:
        return _REGISTRY[(event_type, version)]
    except KeyError:
        raise InvalidEvent(f"unknown event type {event_type!r} version {version}") from None


def registered_types() -> list[tuple[str, int]]:
    return sorted(_REGISTRY)


def utcnow() -> datetime:
    """The clock seam's `now()` (prometeo.clock); kept so existing imports go through the seam."""
    return clock.now()


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    version: int = 1
    occurred_at: datetime
    ingested_at: datetime = Field(default_factory=clock.now)
    customer_key: str = Field(min_length=8, max_length=128)
    source: str = Field(min_length=1, max_length=128)
    payload: dict[str, Any]

    def typed(self) -> EventPayload:
        """The payload validated against its registered schema."""
        model = payload_model(self.type, self.version)
        try:
            return model.model_validate(self.payload)
        except ValidationError as exc:
            raise InvalidEvent(f"{self.type}.v{self.version} payload invalid: {_brief(exc)}") from exc

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @property
    def key(self) -> bytes:
        model = _REGISTRY.get((self.type, self.version))
        field = model.compaction_field if model is not None else None
        if field is None or field not in self.payload:
            return self.customer_key.encode()
        return self.customer_key.encode() + KEY_SEPARATOR + f"{field}={self.payload[field]}".encode()


def new_event(
    payload: EventPayload,
    *,
    customer_key: str,
    source: str,
    occurred_at: datetime | None = None,
    event_id: uuid.UUID | None = None,
) -> Envelope:
    return Envelope(
        event_id=event_id or uuid.uuid4(),
        type=payload.event_type,
        version=payload.event_version,
        occurred_at=occurred_at or clock.now(),
        customer_key=customer_key,
        source=source,
        payload=payload.model_dump(mode="json"),
    )


def decode(raw: bytes | None) -> tuple[Envelope, EventPayload]:
    """Bytes from Kafka → (envelope, typed payload), or InvalidEvent with a readable reason."""
    if raw is None:
        raise InvalidEvent("empty message value")
    try:
        envelope = Envelope.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidEvent(f"envelope invalid: {_brief(exc)}") from exc
    return envelope, envelope.typed()


class _Head(BaseModel):
    """The envelope's type and version alone: the rest of the bytes is parsed but never built into objects."""

    model_config = ConfigDict(extra="ignore")

    type: str
    version: int = 1


def registered_type_of(raw: bytes | None) -> tuple[str, int] | None:
    """The (type, version) an envelope's bytes name, when it is a registered one; None when the bytes are
    no JSON object, name no type, or an unregistered one (`decode` says why). Reads the same `type` and
    `version` fields `decode` does, so a consumer that acts on only some types can pass over the others
    without building their envelope and payload."""
    if raw is None:
        return None
    try:
        head = _Head.model_validate_json(raw)
    except ValidationError:
        return None
    found = (head.type, head.version)
    return found if found in _REGISTRY else None


def _brief(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "<root>"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)
