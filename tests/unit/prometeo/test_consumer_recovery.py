"""A consumer loop that fails is rebuilt after a pause (no process restart); the DLQ-rate guard is the
one failure that stops it for good (a human must look upstream)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from prometeo.bus.consumer import ConsumerLoop, DeadLetterRateExceeded
from prometeo.settings import SharedSettings


def _loop() -> ConsumerLoop:
    return ConsumerLoop(SharedSettings(), "g", {}, cast(Any, None), restart_pause_s=0)


def test_a_failed_loop_is_rebuilt(monkeypatch: pytest.MonkeyPatch) -> None:
    loop, runs = _loop(), []

    def run() -> None:
        runs.append(1)
        if len(runs) < 3:
            raise ConnectionResetError("broker went away")

    monkeypatch.setattr(loop, "run", run)
    loop._run_guarded()
    assert len(runs) == 3 and loop.restarts == 2
    assert isinstance(loop.error, ConnectionResetError)


def test_the_dead_letter_guard_stops_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    loop, runs = _loop(), []

    def run() -> None:
        runs.append(1)
        raise DeadLetterRateExceeded("more than 50% of the last 200 messages were dead-lettered")

    monkeypatch.setattr(loop, "run", run)
    loop._run_guarded()
    assert len(runs) == 1 and loop.restarts == 0
    assert isinstance(loop.error, DeadLetterRateExceeded)
