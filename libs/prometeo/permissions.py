"""Who may be contacted on which channel: a Redis view folded from consent-events.v1, kept by every
service that contacts customers, under its own namespace (each service owns its data).

Two sources, and the explicit one wins:
  * a data consent carries the marketing channels granted with it; they go when that consent ends
    (revoked, rejected, expired);
  * a per-channel choice (`MarketingPermissionChangedV1`: the customer opting in or out, or a
    do-not-contact registry import) overrides every consent for that channel until the next choice.

  {namespace}:customer:{ck}:permissions   hash   consent_id → comma-separated channels
  {namespace}:customer:{ck}:marketing     hash   channel → opted_in | opted_out

Both keys sit under the customer's prefix, so a service's erasure (which deletes that prefix) drops them.
Applying an event is idempotent and a customer's events arrive in order (one partition per key), so a
replay converges on the same view.
"""

from __future__ import annotations

from typing import Any

import redis

from prometeo import keys
from prometeo.contracts import Channel, EventPayload
from prometeo.contracts.events import (
    ConsentChangedV1,
    ConsentGrantedV1,
    ConsentStatus,
    MarketingPermission,
    MarketingPermissionChangedV1,
)

ENDED = frozenset({ConsentStatus.REVOKED, ConsentStatus.REJECTED, ConsentStatus.EXPIRED})


class MarketingPermissions:
    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self._redis = client
        self._namespace = namespace

    def apply(self, customer_key: str, payload: EventPayload) -> bool:
        """Fold one consent-events.v1 payload in; False when it says nothing about permissions."""
        if isinstance(payload, ConsentGrantedV1):
            self.grant(customer_key, payload.consent_id, payload.marketing_channels)
        elif isinstance(payload, ConsentChangedV1) and payload.status in ENDED:
            self._redis.hdel(self._key(customer_key, "permissions"), payload.consent_id)
        elif isinstance(payload, MarketingPermissionChangedV1):
            self._redis.hset(self._key(customer_key, "marketing"), payload.channel.value, payload.permission.value)
        else:
            return False
        return True

    def grant(self, customer_key: str, consent_id: str, channels: list[Channel]) -> None:
        key = self._key(customer_key, "permissions")
        if channels:
            self._redis.hset(key, consent_id, ",".join(sorted(c.value for c in channels)))
        else:
            self._redis.hdel(key, consent_id)

    def known(self, customer_key: str) -> bool:
        """Has any consent channel or explicit choice for this customer been seen yet?"""
        return bool(self._redis.exists(self._key(customer_key, "permissions"), self._key(customer_key, "marketing")))

    def channels(self, customer_key: str) -> frozenset[Channel]:
        """The channels this customer may be contacted on now."""
        with self._redis.pipeline(transaction=False) as pipe:
            self.queue_channels(pipe, customer_key)
            granted, choices = pipe.execute()
        return self.channels_from(granted, choices)

    def queue_channels(self, pipe: Any, customer_key: str) -> None:
        """Queues on a caller's pipeline the two reads `channels_from` folds (one round trip with others)."""
        pipe.hvals(self._key(customer_key, "permissions"))
        pipe.hgetall(self._key(customer_key, "marketing"))

    @staticmethod
    def channels_from(granted: list[bytes], choices: dict[bytes, bytes]) -> frozenset[Channel]:
        channels = {Channel(c) for value in granted for c in value.decode().split(",") if c}
        for channel, permission in choices.items():
            if permission.decode() == MarketingPermission.OPTED_IN.value:
                channels.add(Channel(channel.decode()))
            else:
                channels.discard(Channel(channel.decode()))
        return frozenset(channels)

    def _key(self, customer_key: str, part: str) -> str:
        return keys.customer(self._namespace, customer_key, part)
