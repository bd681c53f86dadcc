"""Outbox adapter (the default): the delivery is recorded in Redis for a channel worker to pick up.

campaigns:customer:{ck}:outbox  list  delivery JSON, newest first, trimmed to max_entries; erased with the customer
"""

from __future__ import annotations

import json
from dataclasses import asdict

import redis
from pydantic import BaseModel

from campaigns.adapters.base import ChannelAdapter, Delivery, DeliveryReceipt, TransientDeliveryError
from prometeo import keys


class OutboxConfig(BaseModel):
    max_entries: int = 200
    ttl_s: int = 180 * 24 * 3600


class OutboxAdapter(ChannelAdapter):
    name = "outbox"

    def __init__(self, client: redis.Redis, config: OutboxConfig | None = None) -> None:
        self._redis = client
        self._config = config or OutboxConfig()

    def send(self, delivery: Delivery) -> DeliveryReceipt:
        key = outbox_key(delivery.customer_key)
        try:
            pipe = self._redis.pipeline()
            pipe.lpush(key, json.dumps(asdict(delivery)))
            pipe.ltrim(key, 0, self._config.max_entries - 1)
            pipe.expire(key, self._config.ttl_s)
            pipe.execute()
        except redis.RedisError as exc:
            raise TransientDeliveryError(f"outbox write failed: {exc}") from exc
        return DeliveryReceipt(adapter=self.name, reference=delivery.offer_id)

    def health(self) -> tuple[bool, str]:
        self._redis.ping()
        return True, "outbox in redis"


def outbox_key(customer_key: str) -> str:
    return keys.customer(keys.CAMPAIGNS, customer_key, "outbox")
