from datetime import UTC, datetime, time

from prometeo_dev.night import SAO_PAULO, seconds_to_next


def test_the_shift_lands_on_the_next_three_in_the_morning_in_sao_paulo() -> None:
    afternoon = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # 15:00 in São Paulo (UTC-3)
    assert seconds_to_next(time(3, 0), SAO_PAULO, afternoon) == 12 * 3600
    just_after = datetime(2026, 12, 1, 6, 0, 1, tzinfo=UTC)  # 03:00:01 local: tomorrow's
    assert seconds_to_next(time(3, 0), SAO_PAULO, just_after) == 24 * 3600 - 1
