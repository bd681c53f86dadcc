"""Prints the seconds from now to the next 03:00 in São Paulo: `make test-night` shifts the clock seam by it
(PROMETEO_CLOCK_SHIFT_S) so the whole suite runs in Brazil's quiet hours, whatever the hour of the machine."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def seconds_to_next(local: time, zone: ZoneInfo, now: datetime) -> int:
    here = now.astimezone(zone)
    target = datetime.combine(here.date(), local, tzinfo=zone)
    if target <= here:
        target = datetime.combine(here.date() + timedelta(days=1), local, tzinfo=zone)
    return int((target - here).total_seconds())


if __name__ == "__main__":
    print(seconds_to_next(time(3, 0), SAO_PAULO, datetime.now(SAO_PAULO)))
