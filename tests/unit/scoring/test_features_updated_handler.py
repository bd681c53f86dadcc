"""The stream handler's per-poll work: one publish for the poll's scores, acks awaited before the loop
may commit, and the PSI gauges (arithmetic over every bucket) refreshed at most every few seconds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from prometeo.bus import RetryableError
from prometeo.contracts import Envelope, ProductCode, new_event, topics
from prometeo.contracts.events import FeaturesUpdatedV1, ProductScore
from scoring.consumers import features_updated
from scoring.consumers.features_updated import DRIFT_EXPORT_INTERVAL_S, FeaturesUpdatedHandler
from scoring.domain.scorer import ScoringInput
from scoring.models import ModelHolder


class _Drift:
    observed = 0

    def observe(self, features: list[dict[str, float]], scores: dict[str, list[float]]) -> None:
        self.observed += len(features)

    def feature_psi(self) -> dict[str, float]:
        return {}

    def score_psi(self) -> dict[str, float]:
        return {}


class _Model:
    name, version, alias = "prometeo-propensity", "7", "champion"

    def __init__(self) -> None:
        self.drift = _Drift()

    def score(self, inputs: Sequence[ScoringInput], reasons: int) -> list[list[ProductScore]]:
        return [[ProductScore(product=ProductCode.SAVINGS, propensity=0.5, reasons=[])] for _ in inputs]


class _Producer:
    ack_wait_s, generation = 5.0, 0

    def __init__(self, acked: bool = True) -> None:
        self.calls: list[tuple[str, list[Envelope]]] = []
        self.waited: list[int] = []
        self._acked = acked

    def publish_many(self, topic: str, events: list[Envelope]) -> list[object]:
        self.calls.append((topic, events))
        return [object() for _ in events]

    def wait_acks(self, futures: list[object], deadline: float, generation: int | None = None) -> list[bool]:
        self.waited.append(len(futures))
        return [self._acked] * len(futures)

    def failed(self, exc: BaseException, generation: int) -> None:
        pass


def _handler(producer: _Producer) -> FeaturesUpdatedHandler:
    models = ModelHolder()
    models.swap("champion", _Model())  # type: ignore[arg-type]  # the handler needs only these members
    return FeaturesUpdatedHandler(models, producer, "champion", 3)  # type: ignore[arg-type]


def _feed(handler: FeaturesUpdatedHandler, n: int) -> None:
    for i in range(n):
        payload = FeaturesUpdatedV1(feature_set_version="v1", as_of=datetime(2026, 1, 1, tzinfo=UTC), features={})
        event = new_event(payload, customer_key=f"ck_handler_{i:04d}", source="test")
        handler(event, payload)


def test_a_polls_scores_go_out_in_one_publish_and_its_acks_are_awaited_once() -> None:
    producer = _Producer()
    handler = _handler(producer)
    _feed(handler, 5)
    handler.flush()
    [(topic, events)] = producer.calls
    assert topic == topics.SCORES and len(events) == 5 and producer.waited == [5]
    handler.flush()  # nothing buffered: nothing published
    assert len(producer.calls) == 1


def test_scores_not_acknowledged_fail_the_poll_as_retryable() -> None:
    handler = _handler(_Producer(acked=False))
    _feed(handler, 2)
    with pytest.raises(RetryableError):
        handler.flush()


def test_drift_gauges_are_refreshed_at_most_every_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    exported: list[Any] = []
    monkeypatch.setattr(features_updated, "export_drift", exported.append)
    now = SimpleNamespace(t=1000.0)
    monkeypatch.setattr(features_updated.time, "monotonic", lambda: now.t)
    handler = _handler(_Producer())
    for step in (0.0, 1.0, DRIFT_EXPORT_INTERVAL_S - 0.5, DRIFT_EXPORT_INTERVAL_S + 0.1):
        now.t = 1000.0 + step
        _feed(handler, 1)
        handler.flush()
    assert len(exported) == 2  # the first poll's, then the one after the interval
    assert exported[0].drift.observed == 4  # every poll still counts into the buckets


def test_the_scores_events_are_the_bytes_new_event_gives() -> None:
    """Encoded straight to the wire: the same envelope, id and payload as `new_event(...).to_bytes()`."""
    import uuid

    from prometeo import clock
    from prometeo.contracts.events import ScoresComputedV1

    producer = _Producer()
    handler = _handler(producer)
    payload = FeaturesUpdatedV1(
        feature_set_version="v1",
        as_of=datetime(2026, 1, 1, tzinfo=UTC),
        features={"txn_count_30d": 3.0, "balance_avg_90d": 1234.5},
        held_products=[ProductCode.SAVINGS],
        profile={"digital_archetype": "activated"},
    )
    incoming = new_event(payload, customer_key="ck_bytes_0001", source="test")
    with clock.pinned(datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC), tick=False):
        handler(incoming, payload)
        handler.flush()
        [(_, [event])] = producer.calls
        model = _Model()
        expected = new_event(
            ScoresComputedV1(
                model_name=model.name,
                model_version=model.version,
                feature_set_version="v1",
                scores=[ProductScore(product=ProductCode.SAVINGS, propensity=0.5, reasons=[])],
                held_products=payload.held_products,
                held_elsewhere=[],
                profile=payload.profile,
                features=payload.features,
            ),
            customer_key="ck_bytes_0001",
            source="scoring",
            event_id=uuid.uuid5(features_updated._NAMESPACE, f"{incoming.event_id}:{model.name}:{model.version}"),
        )
    assert event.to_bytes() == expected.to_bytes()
    assert event.key == expected.key and event.type == expected.type
