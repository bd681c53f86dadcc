"""Every Redis key in the platform is built here: `<service>:<entity>:<id>[:<part>]`.

Layout and TTLs are documented in docs/redis-keys.md. Services share one Redis in dev but never
read each other's prefixes.
"""

from typing import Final

FEATURES: Final = "features"
INGEST: Final = "ingest"
SCORING: Final = "scoring"
NBA: Final = "nba"
CAMPAIGNS: Final = "campaigns"
GATEWAY: Final = "gateway"


def customer(service: str, customer_key: str, part: str | None = None) -> str:
    base = f"{service}:customer:{customer_key}"
    return f"{base}:{part}" if part else base


def customer_pattern(service: str, customer_key: str) -> str:
    """All keys of one customer under a service (for erasure and export)."""
    return f"{service}:customer:{customer_key}*"


def processed_event(service: str, event_id: str) -> str:
    """Marker that an event's effect was applied (idempotency under redelivery)."""
    return f"{service}:event:{event_id}"


def entity(service: str, kind: str, ident: str, part: str | None = None) -> str:
    base = f"{service}:{kind}:{ident}"
    return f"{base}:{part}" if part else base


def epoch(service: str) -> str:
    """The service's epoch marker: present once its views are whole (prometeo.views)."""
    return f"{service}:epoch"
