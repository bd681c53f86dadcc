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


@pytest.mark.parametrize("window", [1, 7, 200])
def test_the_dead_letter_guard_trips_where_the_windows_share_passes_the_ratio(window: int) -> None:
    """The failures are counted as they enter and leave the window: the guard trips on the same record as
    the share of the last `window` outcomes computed afresh each time would."""
    import random
    from collections import deque

    settings = SharedSettings().model_copy(update={"dlq_window": window, "dlq_max_ratio": 0.5})
    for seed in range(20):
        rng = random.Random(seed)
        loop = ConsumerLoop(settings, "g", {}, cast(Any, None))
        reference: deque[bool] = deque(maxlen=window)
        for _ in range(3 * window + 50):
            failed = rng.random() < 0.45
            reference.append(failed)
            expected = len(reference) == window and sum(reference) / window > 0.5
            if expected:
                with pytest.raises(DeadLetterRateExceeded):
                    loop._note(failed)
                break
            loop._note(failed)
