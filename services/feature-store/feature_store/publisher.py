"""Debounced features-updated events: many events for one customer in a consumer batch → one event.

`flush` returns once the broker acknowledged every event it published (bounded wait), or raises a
retryable error: the consumer loop commits the batch's offsets after it, so a batch is never committed
with its features-updated events still buffered (the redelivered batch is a no-op in Redis and
publishes its customers again).
"""

from __future__ import annotations

import time
import uuid

from feature_store.domain.aggregation import compute_features, held_products, segments
from feature_store.domain.definitions import FEATURE_SET_VERSION
from feature_store.store import FeatureRepository
from prometeo import clock
from prometeo.bus import EventProducer
from prometeo.bus.acked import publish_many_acked
from prometeo.contracts import topics
from prometeo.contracts.events import FeaturesUpdatedV1
from prometeo.contracts.wire import EncodedEvent, EnvelopeEncoder

SOURCE = "feature-store"


class FeaturesPublisher:
    def __init__(self, repository: FeatureRepository, producer: EventProducer) -> None:
        self._repository = repository
        self._producer = producer
        self._dirty: set[str] = set()

    def touch(self, customer_key: str) -> None:
        self._dirty.add(customer_key)

    def forget(self, customer_key: str) -> None:
        self._dirty.discard(customer_key)

    def flush(self) -> None:
        if not self._dirty:
            return
        customers = sorted(self._dirty)
        now = clock.now()
        deadline = time.monotonic() + self._producer.ack_wait_s
        generation = self._producer.generation
        # Straight to the wire bytes (one serialisation pass, not new_event's dump, rebuild and dump again):
        # the envelope new_event built, ingested at the batch's instant.
        encoder = EnvelopeEncoder(now)
        events: list[EncodedEvent] = []
        loaded = self._repository.load_with_objection(customers, now)
        for ck, (state, objecting) in zip(customers, loaded, strict=True):
            # Opposition to profiling: the aggregates stay (other purposes), no features go out to be scored.
            if state.is_empty or objecting:
                continue
            here, elsewhere = held_products(state.profile)
            payload = FeaturesUpdatedV1(
                feature_set_version=FEATURE_SET_VERSION,
                as_of=now,
                features=compute_features(state, now),
                held_products=here,
                held_elsewhere=elsewhere,
                profile=segments(state.profile),
            )
            events.append(
                encoder.encode(
                    payload, event_id=str(uuid.uuid4()), occurred_at=clock.now(), customer_key=ck, source=SOURCE
                )
            )
        # One call for the batch's vectors: trace headers, type header and metric once (publish_many).
        publish_many_acked(self._producer, topics.FEATURES_UPDATED, events, deadline, generation)
        self._dirty.clear()
