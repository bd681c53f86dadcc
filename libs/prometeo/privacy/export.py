"""Each service's part of a data-subject export: everything it holds under `<service>:customer:{ck}*`
(the platform's per-customer prefix, the same one its erasure deletes), decoded by Redis type, served
on `GET /internal/v1/customers/{customer_key}/export`. The gateway assembles the parts; the privacy dev
tool (`python -m prometeo_dev.privacy verify`) reads them to prove an erasure left nothing behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

import redis
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from prometeo import clock, keys

EXPORT_PATH = "/internal/v1/customers/{customer_key}/export"


class ServiceExport(BaseModel):
    """One service's part: `items` maps the key's part (`consents`, `days`, `offers`, …) to its value."""

    service: str
    customer_key: str
    exported_at: datetime
    items: dict[str, Any] = Field(default_factory=dict)
    note: str | None = None

    @property
    def empty(self) -> bool:
        return not self.items


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _value(raw: str) -> Any:
    """JSON where the stored text is JSON, the text otherwise."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def dump_customer(client: redis.Redis, namespace: str, customer_key: str) -> dict[str, Any]:
    """Every key under the customer's prefix, decoded by type (hash → dict, zset → [member, score], …)."""
    prefix = keys.customer(namespace, customer_key)
    items: dict[str, Any] = {}
    for raw_key in sorted(client.scan_iter(match=keys.customer_pattern(namespace, customer_key), count=500)):
        key = _text(raw_key)
        part = key[len(prefix) :].lstrip(":") or "record"
        kind = _text(client.type(key))
        if kind == "string":
            raw = client.get(key)
            items[part] = _value(_text(raw)) if raw is not None else None
        elif kind == "hash":
            items[part] = {_text(k): _value(_text(v)) for k, v in sorted(client.hgetall(key).items())}
        elif kind == "zset":
            pairs = cast("list[tuple[bytes, float]]", client.zrange(key, 0, -1, withscores=True))
            items[part] = [[_value(_text(m)), s] for m, s in pairs]
        elif kind == "set":
            items[part] = sorted(_value(_text(m)) for m in client.smembers(key))
        elif kind == "list":
            items[part] = [_value(_text(m)) for m in client.lrange(key, 0, -1)]
        elif kind == "stream":
            entries = cast("list[tuple[bytes, dict[bytes, bytes]]]", client.xrange(key))
            items[part] = [{_text(k): _value(_text(v)) for k, v in fields.items()} for _, fields in entries]
    return items


def app_redis(request: Request) -> redis.Redis:
    """The service's sync Redis client, as every lifespan leaves it on `app.state.redis`."""
    client: redis.Redis = request.app.state.redis
    return client


def export_router(
    service: str,
    namespace: str | None,
    client_of: Callable[[Request], redis.Redis] = app_redis,
    note: str | None = None,
) -> APIRouter:
    """The internal export route of one service (internal auth is applied app-wide, not here).
    `namespace` None: a service that keeps nothing per customer answers an empty part with its note."""
    router = APIRouter(tags=["internal"])

    @router.get(EXPORT_PATH)
    async def export_customer(customer_key: str, request: Request) -> ServiceExport:
        items: dict[str, Any] = {}
        if namespace is not None:
            items = await run_in_threadpool(dump_customer, client_of(request), namespace, customer_key)
        return ServiceExport(
            service=service, customer_key=customer_key, exported_at=clock.now(), items=items, note=note
        )

    return router
