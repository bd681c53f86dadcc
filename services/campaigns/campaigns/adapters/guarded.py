"""A channel adapter behind a circuit breaker (`domain/circuit_breaker.py`).

While the breaker is open, `send` fails fast with `CircuitOpenError` (transient): the delivery is parked
in the retry queue without touching the provider. A permanent refusal proves the provider is up, so it
counts as a success for the breaker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from campaigns.adapters.base import (
    ChannelAdapter,
    Delivery,
    DeliveryReceipt,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from campaigns.domain.circuit_breaker import BreakerState, CircuitBreaker
from prometeo import clock
from prometeo.telemetry.metrics import CHANNEL_BREAKER_OPEN


class CircuitOpenError(TransientDeliveryError):
    """The provider failed repeatedly; no call is attempted until the breaker's reset time."""


class GuardedAdapter(ChannelAdapter):
    def __init__(
        self, inner: ChannelAdapter, breaker: CircuitBreaker, clock: Callable[[], float] = clock.monotonic
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.breaker = breaker
        self._clock = clock
        self._lock = threading.Lock()  # the consumer and the scheduler thread share one breaker

    def send(self, delivery: Delivery) -> DeliveryReceipt:
        with self._lock:
            allowed = self.breaker.allow(self._clock())
        if not allowed:
            raise CircuitOpenError(f"{self.name}: circuit open")
        try:
            receipt = self.inner.send(delivery)
        except TransientDeliveryError:
            with self._lock:
                self.breaker.record_failure(self._clock())
                self._export()
            raise
        except PermanentDeliveryError:
            with self._lock:
                self.breaker.record_success()
                self._export()
            raise
        with self._lock:
            self.breaker.record_success()
            self._export()
        return receipt

    def _export(self) -> None:
        CHANNEL_BREAKER_OPEN.labels(self.name).set(0 if self.breaker.state is BreakerState.CLOSED else 1)

    def health(self) -> tuple[bool, str]:
        ok, detail = self.inner.health()
        return ok, f"{detail}; breaker {self.breaker.state.value}"
