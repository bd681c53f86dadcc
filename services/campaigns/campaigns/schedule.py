"""The durable schedule: jobs due at a time, in one Redis sorted set, so parked deliveries and sequence
timers survive restarts and are shared by replicas.

  campaigns:schedule   zset   Job JSON → due time (epoch seconds)

A claim moves the due jobs `lease_s` into the future before handing them out (one Lua script): a worker
that dies mid-job leaves it to come back after the lease, never lost; finishing removes it.
"""

from __future__ import annotations

from typing import Literal, cast

import redis
from pydantic import BaseModel

from prometeo import keys

JobKind = Literal["deliver", "step", "timer"]

_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[3], member) end
return due
"""


class Deferred(Exception):
    """Raised by a handler whose job must wait (quiet hours, a paused campaign): run it again at
    `until` (epoch seconds), with no attempt counted."""

    def __init__(self, until: float, reason: str) -> None:
        super().__init__(reason)
        self.until = until
        self.reason = reason


class Job(BaseModel):
    """deliver: retry a parked offer delivery. step: run a sequence step. timer: a step's wait ended."""

    kind: JobKind
    customer_key: str
    offer_id: str
    step_no: int = 0
    attempt: int = 0


def schedule_key() -> str:
    return keys.entity(keys.CAMPAIGNS, "schedule", "due")


class Schedule:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client
        self._claim = client.register_script(_CLAIM)

    def add(self, job: Job, due_at: float) -> None:
        self._redis.zadd(schedule_key(), {job.model_dump_json(): due_at})

    def claim(self, now: float, limit: int, lease_s: float) -> list[tuple[str, Job]]:
        raw = self._claim(keys=[schedule_key()], args=[now, limit, now + lease_s])
        return [(m.decode(), Job.model_validate_json(m)) for m in raw]

    def done(self, member: str) -> None:
        self._redis.zrem(schedule_key(), member)

    def reschedule(self, member: str, job: Job, due_at: float) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.zrem(schedule_key(), member)
        pipe.zadd(schedule_key(), {job.model_dump_json(): due_at})
        pipe.execute()

    def pending(self, customer_key: str | None = None) -> list[tuple[Job, float]]:
        scored = cast("list[tuple[bytes, float]]", self._redis.zrange(schedule_key(), 0, -1, withscores=True))
        jobs = [(Job.model_validate_json(m), s) for m, s in scored]
        return [(j, s) for j, s in jobs if customer_key is None or j.customer_key == customer_key]
