"""Circuit breaker as a pure state machine: the caller passes the clock, so tests need no sleeping.

closed ──(failure_threshold consecutive failures)──▶ open ──(reset_after_s elapsed)──▶ half_open
half_open ──(one trial succeeds)──▶ closed;  half_open ──(trial fails)──▶ open (timer restarts)

While open no call is attempted: a provider that is down is not hammered, and deliveries are parked
for a later retry instead of each one waiting for its own timeouts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class CircuitBreaker:
    failure_threshold: int = 5
    reset_after_s: float = 30.0
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: float | None = None
    trial_in_flight: bool = False

    def __post_init__(self) -> None:
        if self.failure_threshold < 1 or self.reset_after_s < 0:
            raise ValueError("failure_threshold must be ≥ 1 and reset_after_s ≥ 0")

    def allow(self, now: float) -> bool:
        """May a call go out now? In half-open, exactly one trial call at a time."""
        if self.state is BreakerState.OPEN:
            assert self.opened_at is not None
            if now - self.opened_at < self.reset_after_s:
                return False
            self.state, self.trial_in_flight = BreakerState.HALF_OPEN, False
        if self.state is BreakerState.HALF_OPEN:
            if self.trial_in_flight:
                return False
            self.trial_in_flight = True
        return True

    def record_success(self) -> None:
        self.state, self.failures, self.opened_at, self.trial_in_flight = BreakerState.CLOSED, 0, None, False

    def record_failure(self, now: float) -> None:
        self.failures += 1
        if self.state is BreakerState.HALF_OPEN or self.failures >= self.failure_threshold:
            self.state, self.opened_at, self.trial_in_flight = BreakerState.OPEN, now, False
