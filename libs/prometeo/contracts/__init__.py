"""Event contracts: the envelope, versioned payloads, topic names and the product vocabulary."""

from prometeo.contracts import events, topics
from prometeo.contracts.envelope import (
    Envelope,
    EventPayload,
    InvalidEvent,
    decode,
    new_event,
    payload_model,
    registered_types,
    utcnow,
)
from prometeo.contracts.products import BUSINESS_PRODUCTS, RETAIL_PRODUCTS, Channel, Objective, ProductCode

__all__ = [
    "BUSINESS_PRODUCTS",
    "RETAIL_PRODUCTS",
    "Channel",
    "Envelope",
    "EventPayload",
    "InvalidEvent",
    "Objective",
    "ProductCode",
    "decode",
    "events",
    "new_event",
    "payload_model",
    "registered_types",
    "topics",
    "utcnow",
]
