"""Debounced features-updated events: many events for one customer in a poll → one event."""

from __future__ import annotations

from feature_store.domain.aggregation import compute_features, held_products, segments
from feature_store.domain.definitions import FEATURE_SET_VERSION
from feature_store.store import FeatureRepository
from prometeo import clock
from prometeo.bus import EventProducer
from prometeo.bus.producer import PublishInterrupted
from prometeo.contracts import new_event, topics
from prometeo.contracts.events import FeaturesUpdatedV1

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
        # Opposition to profiling: the aggregates stay (other purposes), no features go out to be scored.
        objecting = self._repository.objecting(customers)
        events = []
        for ck, state in zip(customers, self._repository.load(customers, now), strict=True):
            if state.is_empty or ck in objecting:
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
            events.append(new_event(payload, customer_key=ck, source=SOURCE))
        # One call for the poll's vectors: trace headers, type header and metric once (publish_many).
        try:
            self._producer.publish_many(topics.FEATURES_UPDATED, events)
        except PublishInterrupted as exc:
            raise exc.cause from exc  # the send's own error, so the loop tells retryable from not as before
        self._producer.flush()
        self._dirty.clear()
