"""PROMETEO_TEST_TIMEOUT_SCALE: one number stretches every wait of the test helpers and server starts."""

import time

import pytest

from prometeo_dev.servers import TIMEOUT_SCALE_ENV, scaled, timeout_scale
from tests.bus_helpers import wait_until


def test_unset_or_empty_is_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TIMEOUT_SCALE_ENV, raising=False)
    assert timeout_scale() == 1.0 and scaled(20) == 20
    monkeypatch.setenv(TIMEOUT_SCALE_ENV, "")
    assert timeout_scale() == 1.0


def test_a_scale_stretches_every_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TIMEOUT_SCALE_ENV, "2.5")
    assert scaled(20) == 50.0
    monkeypatch.setenv(TIMEOUT_SCALE_ENV, "0.01")  # shrunk here only so the failure comes fast
    started = time.monotonic()
    with pytest.raises(AssertionError, match=r"within 0\.05s"):
        wait_until(lambda: False, timeout=5, interval=0.01)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("value", ["fast", "0", "-2"])
def test_nonsense_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(TIMEOUT_SCALE_ENV, value)
    with pytest.raises(ValueError, match=TIMEOUT_SCALE_ENV):
        timeout_scale()
