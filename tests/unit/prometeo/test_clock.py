import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from prometeo import clock
from tests.instants import AT_03_SAO_PAULO


def _system_now() -> float:
    """The system clock plus the run's shift (`make test-night` shifts every process)."""
    return time.time() + clock.shift().total_seconds()


def test_unpinned_the_clock_is_aware_utc_and_close_to_the_system_clock() -> None:
    now = clock.now()
    assert now.tzinfo is UTC
    assert abs(now.timestamp() - _system_now()) < 5
    assert abs(clock.timestamp() - _system_now()) < 5
    assert clock.monotonic() <= clock.monotonic()


def test_a_shift_from_the_environment_moves_now_in_every_process_that_inherits_it() -> None:
    code = "from prometeo import clock; import time; print(clock.timestamp() - time.time())"
    env = {**os.environ, "PROMETEO_ENV": "test", "PROMETEO_CLOCK_SHIFT_S": "-7200"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert abs(float(out.stdout) + 7200) < 5
    env["PROMETEO_ENV"] = "prod"
    refused = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert refused.returncode != 0 and "dev and test runs only" in refused.stderr


def test_a_pinned_clock_starts_at_the_instant_in_utc_and_ticks() -> None:
    with clock.pinned(AT_03_SAO_PAULO):
        first = clock.now()
        assert first.tzinfo is UTC and first.hour == 6  # 03:00 in São Paulo
        assert timedelta(0) <= first - AT_03_SAO_PAULO < timedelta(seconds=5)
        assert clock.now() >= first
    assert abs(clock.timestamp() - _system_now()) < 5  # unpinned again: the real clock


def test_a_frozen_clock_stays_and_advance_moves_now_and_monotonic_together() -> None:
    with clock.pinned(AT_03_SAO_PAULO, tick=False):
        assert clock.now() == clock.now() == AT_03_SAO_PAULO
        before = clock.monotonic()
        clock.advance(timedelta(hours=12))
        assert clock.now() == AT_03_SAO_PAULO + timedelta(hours=12)
        assert clock.timestamp() == (AT_03_SAO_PAULO + timedelta(hours=12)).timestamp()
        assert clock.monotonic() - before >= 12 * 3600
        clock.advance(1.5)
        assert clock.now() == AT_03_SAO_PAULO + timedelta(hours=12, seconds=1.5)


def test_misuse_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"), clock.pinned(datetime(2026, 12, 1, 3)):
        pass
    with pytest.raises(RuntimeError, match="pinned"):
        clock.advance(1)
    with clock.pinned(AT_03_SAO_PAULO):
        with pytest.raises(ValueError, match="back"):
            clock.advance(-1)
        with pytest.raises(RuntimeError, match="already pinned"), clock.pinned(AT_03_SAO_PAULO):
            pass
