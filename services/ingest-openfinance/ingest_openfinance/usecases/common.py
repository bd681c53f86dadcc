"""The plumbing every ingest use case shares.

Events go to Kafka first (the compacted consent topic is the source of truth) and then to the Redis view,
so what is posted right after a consent already meets it.
"""

from __future__ import annotations

from collections.abc import Sequence

from ingest_openfinance.store import ConsentStore
from prometeo.bus import EventProducer
from prometeo.contracts import EventPayload, new_event
from prometeo.contracts.envelope import Envelope
from prometeo.identity import customer_key

SOURCE = "ingest-openfinance"


class UseCase:
    def __init__(self, producer: EventProducer, consents: ConsentStore, secret: str) -> None:
        self._producer = producer
        self._consents = consents
        self._secret = secret

    def pseudonymise(self, customer_id: str) -> str:
        return customer_key(customer_id, self._secret)

    def _emit(self, topic: str, ck: str, payloads: Sequence[EventPayload]) -> list[Envelope]:
        """This service's events about one customer, published together (acknowledged before returning)."""
        events = [new_event(payload, customer_key=ck, source=SOURCE) for payload in payloads]
        self._producer.publish_all(topic, events)
        return events
