from datetime import UTC, datetime, time

import pytest
from pydantic import ValidationError

from prometeo.contracts import Channel
from prometeo.quiet_hours import QuietHours

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
