"""The one clock: every read of the time in `libs/` and `services/` goes through here.

* `now()` — the current instant, timezone-aware, in UTC. For instants: event times, "is the
  campaign active", the customer's local hour, due times kept in Redis (`timestamp()` is the same
  instant as epoch seconds, for the durable schedule's sorted set).
* `monotonic()` — seconds on a clock that never goes back. For durations and deadlines in-process
  (cache refresh, circuit-breaker reset); never stored, never compared across processes.

Domain code takes the instant as an argument (`decide(..., at=now)`); only the edges call `now()`.
Latency measurements for metrics keep `time.perf_counter()`: they time how long code ran, which a
pinned or advanced test clock must not change.

Tests pin the seam, not the process: `with clock.pinned(at):` makes `now()` start at `at` (ticking
on by default, `tick=False` freezes it) and `clock.advance(delta)` moves a pinned clock forward —
both `now()` and `monotonic()` — without waiting. The override is process-wide (service threads
see it: the campaigns scheduler runs in its own thread), so it is not a context variable.

Why not time-machine or libfaketime in the integration tests: they patch the whole process, so
kafka-python's poll and session timeouts, the Redis client and the test's own deadlines would run on
the pinned clock too — a frozen clock hangs a poll, a jump expires a consumer's session. Pinning only
this seam moves the business hour and leaves the I/O timeouts on real time. (time-machine stays
usable for a pure unit test of code that does not go through the seam.)

A whole run can be shifted too: `PROMETEO_CLOCK_SHIFT_S=<seconds>` (honoured only with PROMETEO_ENV dev or
test) adds a fixed offset to `now()` in every process that inherits it — the broker, Redis and the I/O timeouts
stay on real time. `make test-night` uses it to run the suite at 03:00 in São Paulo. (libfaketime would be the
obvious tool, but the Debian build here hangs `threading.Event.wait` under a shifted clock.)
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["advance", "monotonic", "now", "pinned", "shift", "timestamp"]


@dataclass
class _Pin:
    at: datetime  # what now() read when the pin was set (plus any advance)
    started: float  # time.monotonic() then
    tick: bool
    advanced_s: float = 0.0  # total advance(), also added to monotonic()


_lock = threading.Lock()
_pin: _Pin | None = None


def _shift_from_env() -> timedelta:
    raw = os.environ.get("PROMETEO_CLOCK_SHIFT_S", "").strip()
    if not raw:
        return timedelta(0)
    if os.environ.get("PROMETEO_ENV", "dev") not in ("dev", "test"):
        raise RuntimeError("PROMETEO_CLOCK_SHIFT_S is for dev and test runs only")
    return timedelta(seconds=float(raw))


_shift = _shift_from_env()


def shift() -> timedelta:
    """The run's fixed offset from the system clock (PROMETEO_CLOCK_SHIFT_S; zero unless set)."""
    return _shift


def now() -> datetime:
    """The current instant, aware, in UTC."""
    pin = _pin
    if pin is None:
        return datetime.now(UTC) + _shift
    elapsed = time.monotonic() - pin.started if pin.tick else 0.0
    return pin.at + timedelta(seconds=elapsed)


def timestamp() -> float:
    """`now()` as POSIX seconds (for due times kept in Redis)."""
    return now().timestamp()


def monotonic() -> float:
    """Seconds for durations and deadlines; moved forward by `advance()` like `now()`."""
    pin = _pin
    return time.monotonic() + (pin.advanced_s if pin is not None else 0.0)


@contextlib.contextmanager
def pinned(at: datetime, *, tick: bool = True) -> Iterator[None]:
    """Within the block `now()` starts at `at` (aware; converted to UTC). `tick=False` freezes it.
    Not re-entrant: pins do not nest."""
    global _pin
    if at.tzinfo is None:
        raise ValueError("pin the clock to an aware datetime")
    with _lock:
        if _pin is not None:
            raise RuntimeError("the clock is already pinned")
        _pin = _Pin(at=at.astimezone(UTC), started=time.monotonic(), tick=tick)
    try:
        yield
    finally:
        with _lock:
            _pin = None


def advance(delta: timedelta | float) -> None:
    """Move the pinned clock forward by `delta` (a timedelta or seconds) at once."""
    global _pin
    seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
    if seconds < 0:
        raise ValueError("the clock does not go back")
    with _lock:
        if _pin is None:
            raise RuntimeError("advance() needs a pinned clock (clock.pinned)")
        _pin = _Pin(
            at=_pin.at + timedelta(seconds=seconds),
            started=_pin.started,
            tick=_pin.tick,
            advanced_s=_pin.advanced_s + seconds,
        )
