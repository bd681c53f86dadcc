"""Insider-threat rules for people reading customer data (the seeds: an employee downloading an
abnormal volume of data, or reading out of working hours, is stopped and security is told).

- read_volume: more than `max_customers` distinct customers read by one person within `window_s`
  blocks that person until an admin lifts the block.
- out_of_hours: a read outside the working hours of the person's branch (its own time zone) is
  refused and reported; it does not block later reads in hours.
Machine clients are limited by their token buckets and scopes instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo


class GuardRule(StrEnum):
    READ_VOLUME = "read_volume"
    OUT_OF_HOURS = "out_of_hours"


@dataclass(frozen=True)
class GuardPolicy:
    window_s: int
    max_customers: int
    opens: time
    closes: time
    working_days: frozenset[int]  # Monday = 0


def outside_working_hours(at: datetime, timezone: str, policy: GuardPolicy) -> bool:
    """Local time in the branch's zone, never the machine's."""
    local = at.astimezone(ZoneInfo(timezone))
    if local.weekday() not in policy.working_days:
        return True
    if policy.opens == policy.closes:  # round the clock (e.g. `make run`, a 24-hour contact centre)
        return False
    return not (policy.opens <= local.time().replace(tzinfo=None) < policy.closes)


def describe(rule: GuardRule, policy: GuardPolicy) -> str:
    if rule is GuardRule.READ_VOLUME:
        minutes = policy.window_s // 60
        return (
            f"more than {policy.max_customers} distinct customers read within {minutes} minutes: "
            "reads are blocked until security lifts the block"
        )
    return f"reads are allowed {policy.opens:%H:%M}–{policy.closes:%H:%M} local time on working days"
