"""The data-subject request log in Redis, listable by the DPO. Key layout (docs/redis-keys.md):

  gateway:dsr:{request_id}   string  DataSubjectRequestRecord JSON, no TTL (accountability record)
  gateway:dsr:index          zset    request_id scored by received_at epoch

Kept outside the customer's prefix on purpose: erasure does not remove the record that it was done.
"""

from __future__ import annotations

import abc
from typing import cast

import redis.asyncio as aioredis

from gateway.domain.requests import DataSubjectRequestRecord
from prometeo import keys
from prometeo.keys import GATEWAY

INDEX = keys.entity(GATEWAY, "dsr", "index")


def request_key(request_id: str) -> str:
    return keys.entity(GATEWAY, "dsr", request_id)


class RequestLog(abc.ABC):
    @abc.abstractmethod
    async def save(self, record: DataSubjectRequestRecord) -> None: ...

    @abc.abstractmethod
    async def latest(self, limit: int) -> list[DataSubjectRequestRecord]:
        """The most recent requests, newest first."""


class RedisRequestLog(RequestLog):
    def __init__(self, client: aioredis.Redis) -> None:
        self._redis = client

    async def save(self, record: DataSubjectRequestRecord) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(request_key(record.request_id), record.model_dump_json())
            pipe.zadd(INDEX, {record.request_id: record.received_at.timestamp()})
            await pipe.execute()

    async def latest(self, limit: int) -> list[DataSubjectRequestRecord]:
        ids = cast("list[bytes | str]", await self._redis.zrevrange(INDEX, 0, limit - 1))
        if not ids:
            return []
        raws = await self._redis.mget([request_key(i.decode() if isinstance(i, bytes) else i) for i in ids])
        return [DataSubjectRequestRecord.model_validate_json(r) for r in raws if r]
