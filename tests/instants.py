"""The instants time-of-day tests run at: 03:00 and 15:00 in São Paulo (inside and outside the usual
21:00–08:00 quiet hours), and both 2026 daylight-saving changes in Santiago (Chile keeps DST; Brazil
dropped it in 2019). Checked with zoneinfo:

  2026-04-05 03:00 UTC: Santiago goes from −03 to −04 (24:00 on 4 April becomes 23:00)
  2026-09-06 04:00 UTC: Santiago goes from −04 to −03 (24:00 on 5 September becomes 01:00)
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

SAO_PAULO, SANTIAGO = ZoneInfo("America/Sao_Paulo"), ZoneInfo("America/Santiago")

AT_03_SAO_PAULO = datetime(2026, 12, 1, 3, 0, tzinfo=SAO_PAULO)  # 06:00 UTC
AT_15_SAO_PAULO = datetime(2026, 12, 1, 15, 0, tzinfo=SAO_PAULO)  # 18:00 UTC
SANTIAGO_FALLS_BACK = datetime(2026, 4, 5, 3, 0, tzinfo=UTC)
SANTIAGO_SPRINGS_FORWARD = datetime(2026, 9, 6, 4, 0, tzinfo=UTC)

SAO_PAULO_HOURS = pytest.mark.parametrize(
    "at", [pytest.param(AT_03_SAO_PAULO, id="03h-sao-paulo"), pytest.param(AT_15_SAO_PAULO, id="15h-sao-paulo")]
)


def local_hour(at: datetime, zone: ZoneInfo = SAO_PAULO) -> int:
    return at.astimezone(zone).hour
