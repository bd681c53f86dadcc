"""Quiet hours from the environment: JSON turns them on, `null` or an empty value turns them off (as
the README says), unset keeps the 21:00–08:00 default."""

from datetime import time

import pytest

from campaigns.settings import Settings
from prometeo.contracts import Channel

VAR = "PROMETEO_CAMPAIGNS_QUIET_HOURS"


@pytest.mark.parametrize("value", ["null", "", "  "], ids=["null", "empty", "blank"])
def test_null_or_empty_turns_quiet_hours_off(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(VAR, value)
    assert Settings().quiet_hours is None


def test_unset_keeps_the_default_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VAR, raising=False)
    quiet = Settings().quiet_hours
    assert quiet is not None and (quiet.start, quiet.end) == (time(21), time(8))


def test_json_sets_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VAR, '{"start": "22:00", "end": "07:30", "channels": ["sms"]}')
    quiet = Settings().quiet_hours
    assert quiet is not None and (quiet.start, quiet.end, quiet.channels) == (time(22), time(7, 30), [Channel.SMS])


@pytest.mark.parametrize("value", ["null", ""])
def test_optional_plain_settings_read_null_and_empty_as_unset(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("PROMETEO_CAMPAIGNS_WEBHOOK_TOKEN", value)
    monkeypatch.setenv("PROMETEO_CAMPAIGNS_SMTP_HOST", value)
    settings = Settings()
    assert settings.webhook_token is None and settings.smtp_host is None
