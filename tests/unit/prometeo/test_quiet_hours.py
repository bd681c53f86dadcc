from datetime import UTC, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from prometeo.contracts import Channel
from prometeo.quiet_hours import QuietHours
from tests.instants import (
    SANTIAGO,
    SANTIAGO_FALLS_BACK,
    SANTIAGO_SPRINGS_FORWARD,
    SAO_PAULO,
    SAO_PAULO_HOURS,
    local_hour,
)

QUIET = QuietHours(start=time(21), end=time(8))  # São Paulo by default: UTC−3


@pytest.mark.parametrize(
    ("utc", "quiet", "ends"),
    [
        (datetime(2026, 3, 2, 23, 30, tzinfo=UTC), False, None),  # 20:30 local
        (datetime(2026, 3, 3, 0, 30, tzinfo=UTC), True, datetime(2026, 3, 3, 11, 0, tzinfo=UTC)),  # 21:30 → 08:00
        (datetime(2026, 3, 3, 9, 0, tzinfo=UTC), True, datetime(2026, 3, 3, 11, 0, tzinfo=UTC)),  # 06:00 → 08:00
        (datetime(2026, 3, 3, 11, 0, tzinfo=UTC), False, None),  # 08:00 sharp: the window is over
    ],
)
def test_the_window_wraps_midnight_and_ends_at_the_next_local_end(
    utc: datetime, quiet: bool, ends: datetime | None
) -> None:
    assert QUIET.silences(Channel.SMS, utc, "America/Sao_Paulo") is quiet
    assert QUIET.ends_after(utc, None) == (ends or utc)


def test_silent_channels_and_the_customers_time_zone() -> None:
    late_in_sao_paulo = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)  # 22:00 there, 19:00 in Mexico City
    assert not QUIET.silences(Channel.EMAIL, late_in_sao_paulo, None)  # e-mail is not interrupting
    assert QUIET.silences(Channel.WHATSAPP, late_in_sao_paulo, "not/a-zone")  # unknown zone: the default
    assert not QUIET.silences(Channel.WHATSAPP, late_in_sao_paulo, "America/Mexico_City")


def test_times_must_be_quoted_and_the_window_not_empty() -> None:
    with pytest.raises(ValidationError, match="quoted"):
        QuietHours.model_validate({"start": 1260, "end": "08:00"})
    with pytest.raises(ValidationError, match="equal"):
        QuietHours(start=time(8), end=time(8))
    with pytest.raises(ValidationError, match="unknown time zone"):
        QuietHours(start=time(21), end=time(8), default_timezone="Mars/Olympus")


# -- at pinned instants (tests/instants.py) ---------------------------------------------------------


@SAO_PAULO_HOURS
def test_at_three_and_fifteen_in_sao_paulo(at: datetime) -> None:
    night = local_hour(at) == 3
    assert QUIET.silences(Channel.SMS, at, "America/Sao_Paulo") is night
    expected = datetime(2026, 12, 1, 8, tzinfo=SAO_PAULO) if night else at
    assert QUIET.ends_after(at, "America/Sao_Paulo") == expected
    # Same instant, a customer in Lisbon (06:00 / 18:00 there): quiet at 06:00 too, not at 18:00.
    assert QUIET.silences(Channel.SMS, at, "Europe/Lisbon") is night


@pytest.mark.parametrize(
    ("at", "ends"),
    [
        # 23:00 on 4 April at −03; the night is an hour longer: 08:00 on the 5th is at −04 (12:00 UTC).
        (SANTIAGO_FALLS_BACK - timedelta(hours=1), datetime(2026, 4, 5, 12, tzinfo=UTC)),
        # 23:30 on 4 April for the second time (now −04): still ends at 12:00 UTC.
        (SANTIAGO_FALLS_BACK + timedelta(minutes=30), datetime(2026, 4, 5, 12, tzinfo=UTC)),
        # 23:00 on 5 September at −04; the night is an hour shorter: 08:00 on the 6th is at −03 (11:00 UTC).
        (SANTIAGO_SPRINGS_FORWARD - timedelta(hours=1), datetime(2026, 9, 6, 11, tzinfo=UTC)),
        # 01:30 on 6 September (00:00–01:00 never happened): ends at 11:00 UTC.
        (SANTIAGO_SPRINGS_FORWARD + timedelta(minutes=30), datetime(2026, 9, 6, 11, tzinfo=UTC)),
    ],
    ids=["apr-2300", "apr-2330-again", "sep-2300", "sep-0130"],
)
def test_the_window_ends_at_local_eight_across_santiagos_daylight_saving_change(at: datetime, ends: datetime) -> None:
    assert QUIET.silences(Channel.SMS, at, "America/Santiago")
    end = QUIET.ends_after(at, "America/Santiago")
    assert end == ends and end.astimezone(SANTIAGO).hour == 8
    assert not QUIET.silences(Channel.SMS, end, "America/Santiago")
    assert QUIET.silences(Channel.SMS, end - timedelta(minutes=1), "America/Santiago")
