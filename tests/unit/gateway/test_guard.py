"""Working hours are the branch's, in its own zone; the rule texts name what fired."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from gateway.domain.guard import GuardPolicy, GuardRule, describe, outside_working_hours

POLICY = GuardPolicy(window_s=3600, max_customers=60, opens=time(7), closes=time(20), working_days=frozenset(range(6)))


@pytest.mark.parametrize(
    ("at", "zone", "outside"),
    [
        (datetime(2026, 3, 3, 13, 0, tzinfo=UTC), "America/Sao_Paulo", False),  # Tue 10:00
        (datetime(2026, 3, 3, 9, 59, tzinfo=UTC), "America/Sao_Paulo", True),  # Tue 06:59
        (datetime(2026, 3, 3, 10, 0, tzinfo=UTC), "America/Sao_Paulo", False),  # Tue 07:00 opens
        (datetime(2026, 3, 3, 23, 0, tzinfo=UTC), "America/Sao_Paulo", True),  # Tue 20:00 closed
        (datetime(2026, 3, 3, 23, 0, tzinfo=UTC), "America/Manaus", False),  # Tue 19:00 in Manaus
        (datetime(2026, 3, 8, 13, 0, tzinfo=UTC), "America/Sao_Paulo", True),  # Sunday
        (datetime(2026, 3, 7, 13, 0, tzinfo=UTC), "America/Sao_Paulo", False),  # Saturday, branches open
        (datetime(2026, 3, 3, 16, 0, tzinfo=UTC), "America/Mexico_City", False),  # Tue 10:00 CDMX
    ],
)
def test_working_hours_in_the_branch_zone(at: datetime, zone: str, outside: bool) -> None:
    assert outside_working_hours(at, zone, POLICY) is outside


def test_rule_descriptions_name_the_limits() -> None:
    assert "60 distinct customers" in describe(GuardRule.READ_VOLUME, POLICY)
    assert "07:00–20:00" in describe(GuardRule.OUT_OF_HOURS, POLICY)


def test_equal_opening_and_closing_mean_round_the_clock() -> None:
    always = GuardPolicy(window_s=60, max_customers=1, opens=time(0), closes=time(0), working_days=frozenset(range(7)))
    assert not outside_working_hours(datetime(2026, 3, 8, 6, 0, tzinfo=UTC), "America/Sao_Paulo", always)
