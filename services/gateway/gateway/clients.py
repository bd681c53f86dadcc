"""The OAuth2 client registry in Redis, shared by every gateway replica. Key layout (docs/redis-keys.md):

  gateway:client:{client_id}   string  ClientRecord JSON (secret as a salted hash), no TTL
  gateway:clients:index        set     every registered client id

A disabled client is refused at once: each request re-reads the client's state, through a cache of
at most `cache_s` (1 s) per replica, so a token issued before the disable stops working within a second.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable

import redis.asyncio as aioredis

from gateway.domain.clients import ClientRecord
from prometeo import keys
from prometeo.keys import GATEWAY

INDEX = keys.entity(GATEWAY, "clients", "index")


def client_key(client_id: str) -> str:
    return keys.entity(GATEWAY, "client", client_id)


class ClientRegistry(abc.ABC):
    @abc.abstractmethod
    async def get(self, client_id: str) -> ClientRecord | None: ...

    @abc.abstractmethod
    async def save(self, record: ClientRecord, *, create: bool = False) -> bool:
        """Store the record; with `create`, only if the id is new (False when it was taken)."""

    @abc.abstractmethod
    async def all(self) -> list[ClientRecord]: ...

    async def active(self, client_id: str) -> ClientRecord | None:
        """The client if it exists and is enabled."""
        record = await self.get(client_id)
        return record if record is not None and not record.disabled else None


class RedisClientRegistry(ClientRegistry):
    def __init__(
        self, client: aioredis.Redis, cache_s: float = 1.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._redis = client
        self._cache_s = cache_s
        self._monotonic = monotonic
        self._active: dict[str, tuple[float, ClientRecord | None]] = {}

    async def get(self, client_id: str) -> ClientRecord | None:
        raw = await self._redis.get(client_key(client_id))
        return ClientRecord.model_validate_json(raw) if raw else None

    async def save(self, record: ClientRecord, *, create: bool = False) -> bool:
        stored = await self._redis.set(client_key(record.client_id), record.model_dump_json(), nx=create)
        if not stored:
            return False
        await self._redis.sadd(INDEX, record.client_id)
        self._active.pop(record.client_id, None)
        return True

    async def all(self) -> list[ClientRecord]:
        ids = sorted(m.decode() if isinstance(m, bytes) else str(m) for m in await self._redis.smembers(INDEX))
        if not ids:
            return []
        raws = await self._redis.mget([client_key(i) for i in ids])
        return [ClientRecord.model_validate_json(r) for r in raws if r]

    async def active(self, client_id: str) -> ClientRecord | None:
        now = self._monotonic()
        cached = self._active.get(client_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        record = await super().active(client_id)
        self._active[client_id] = (now + self._cache_s, record)
        return record
