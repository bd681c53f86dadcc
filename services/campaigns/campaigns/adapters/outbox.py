"""Outbox adapter (the default): the delivery is recorded in Redis for a channel worker to pick up.

campaigns:customer:{ck}:outbox  list  delivery JSON, newest first, trimmed to max_entries; erased with the customer
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict

import redis
from pydantic import BaseModel

from campaigns.adapters.base import ChannelAdapter, Delivery, DeliveryError, DeliveryReceipt, TransientDeliveryError
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
        result = self.send_many([delivery])[0]
        if isinstance(result, DeliveryError):
            raise result
        return result

    def send_many(self, deliveries: Sequence[Delivery]) -> list[DeliveryReceipt | DeliveryError]:
        """Every delivery appended in one transaction (one round trip): all are written, or none is."""
        try:
            pipe = self._redis.pipeline()
            for delivery in deliveries:
                key = outbox_key(delivery.customer_key)
                pipe.lpush(key, json.dumps(asdict(delivery)))
                pipe.ltrim(key, 0, self._config.max_entries - 1)
                pipe.expire(key, self._config.ttl_s)
            pipe.execute()
        except redis.RedisError as exc:
            failed = TransientDeliveryError(f"outbox write failed: {exc}")
            failed.__cause__ = exc
            return [failed] * len(deliveries)
        return [DeliveryReceipt(adapter=self.name, reference=d.offer_id) for d in deliveries]

    def health(self) -> tuple[bool, str]:
        self._redis.ping()
        return True, "outbox in redis"


def outbox_key(customer_key: str) -> str:
    return keys.customer(keys.CAMPAIGNS, customer_key, "outbox")
