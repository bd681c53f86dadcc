"""Who may be contacted on which channel: a Redis view folded from consent-events.v1, kept by every
service that contacts customers, under its own namespace (each service owns its data).

Purpose binding: no channel is usable unless the customer holds an active consent whose purposes include
`marketing` (a consent granting channels without naming purposes is one). Then two sources, and the
explicit one wins:
  * a data consent carries the marketing channels granted with it; they go when that consent ends
    (revoked, rejected, expired);
  * a per-channel choice (`MarketingPermissionChangedV1`: the customer opting in or out, or a
    do-not-contact registry import) overrides every consent for that channel until the next choice.

  {namespace}:customer:{ck}:permissions   hash   consent_id → comma-separated channels
  {namespace}:customer:{ck}:marketing     hash   channel → opted_in | opted_out
  {namespace}:customer:{ck}:purposes      hash   consent_id → comma-separated purposes (active consents)
  {namespace}:customer:{ck}:registries    hash   registry (e.g. REUS) → comma-separated channels listed
  {namespace}:customer:{ck}:privacy       hash   jurisdiction, profiling_objected ("1")

`refusal()` answers why a contact may not go out (purpose, registry of the customer's country, channel),
at the moment of sending: campaign steps due days later ask again.

Both keys sit under the customer's prefix, so a service's erasure (which deletes that prefix) drops them.
Applying an event is idempotent and a customer's events arrive in order (one partition per key), so a
replay converges on the same view.
"""

from __future__ import annotations

from enum import StrEnum
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
    ProfilingObjectionChangedV1,
    Purpose,
)
from prometeo.privacy.jurisdictions import policy_for

ENDED = frozenset({ConsentStatus.REVOKED, ConsentStatus.REJECTED, ConsentStatus.EXPIRED})


class ContactRefusal(StrEnum):
    """Why a contact is refused, most fundamental first."""

    NO_MARKETING_CONSENT = "purpose_not_granted:marketing"
    PROFILING_OBJECTED = "profiling_objected"
    DO_NOT_CONTACT_REGISTRY = "do_not_contact_registry"
    CHANNEL_NOT_PERMITTED = "channel_not_permitted"


# How many pipeline results `MarketingPermissions.queue_channels` adds.
CHANNEL_READS = 5


class MarketingPermissions:
    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self._redis = client
        self._namespace = namespace

    def apply(self, customer_key: str, payload: EventPayload) -> bool:
        """Fold one consent-events.v1 payload in; False when it says nothing about permissions."""
        if isinstance(payload, ConsentGrantedV1):
            self.grant(customer_key, payload.consent_id, payload.marketing_channels)
            self._redis.hset(
                self._key(customer_key, "purposes"), payload.consent_id, ",".join(sorted(payload.purposes))
            )
            if payload.jurisdiction:
                self._redis.hset(self._key(customer_key, "privacy"), "jurisdiction", payload.jurisdiction)
        elif isinstance(payload, ConsentChangedV1) and payload.status in ENDED:
            self._redis.hdel(self._key(customer_key, "permissions"), payload.consent_id)
            self._redis.hdel(self._key(customer_key, "purposes"), payload.consent_id)
        elif isinstance(payload, MarketingPermissionChangedV1):
            self._redis.hset(self._key(customer_key, "marketing"), payload.channel.value, payload.permission.value)
            if payload.source == "do_not_contact_registry" and payload.registry:
                self._list_in_registry(customer_key, payload.registry.upper(), payload.channel)
        elif isinstance(payload, ProfilingObjectionChangedV1):
            if payload.objected:
                self._redis.hset(self._key(customer_key, "privacy"), "profiling_objected", "1")
            else:
                self._redis.hdel(self._key(customer_key, "privacy"), "profiling_objected")
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
        return bool(
            self._redis.exists(
                self._key(customer_key, "permissions"),
                self._key(customer_key, "marketing"),
                self._key(customer_key, "purposes"),
            )
        )

    def _list_in_registry(self, customer_key: str, registry: str, channel: Channel) -> None:
        key = self._key(customer_key, "registries")
        raw = self._redis.hget(key, registry)
        listed = {c for c in (raw.decode().split(",") if isinstance(raw, bytes) else []) if c}
        self._redis.hset(key, registry, ",".join(sorted(listed | {channel.value})))

    def channels(self, customer_key: str) -> frozenset[Channel]:
        """The channels this customer may be contacted on now (none without a marketing consent, none
        while they object to profiling, none their country's do-not-contact registry lists)."""
        with self._redis.pipeline(transaction=False) as pipe:
            self.queue_channels(pipe, customer_key)
            return self.channels_from(pipe.execute())

    def queue_channels(self, pipe: Any, customer_key: str) -> None:
        """Queues on a caller's pipeline the CHANNEL_READS reads `channels_from` folds (one round trip with
        others)."""
        pipe.hvals(self._key(customer_key, "permissions"))
        pipe.hgetall(self._key(customer_key, "marketing"))
        pipe.hvals(self._key(customer_key, "purposes"))
        pipe.hgetall(self._key(customer_key, "registries"))
        pipe.hgetall(self._key(customer_key, "privacy"))

    @staticmethod
    def channels_from(results: list[Any]) -> frozenset[Channel]:
        """The channels permitted, from the CHANNEL_READS results `queue_channels` queued, in order."""
        granted, choices, purposes, registries, privacy = results
        if not any(Purpose.MARKETING.value in value.decode().split(",") for value in purposes):
            return frozenset()
        if privacy.get(b"profiling_objected") == b"1":
            return frozenset()
        channels = {Channel(c) for value in granted for c in value.decode().split(",") if c}
        for channel, permission in choices.items():
            if permission.decode() == MarketingPermission.OPTED_IN.value:
                channels.add(Channel(channel.decode()))
            else:
                channels.discard(Channel(channel.decode()))
        jurisdiction = privacy.get(b"jurisdiction")
        policy = policy_for(jurisdiction.decode() if jurisdiction else None)
        listed = {r.decode(): set(v.decode().split(",")) for r, v in registries.items()}
        return frozenset(
            c for c in channels if not any(c.value in listed.get(r, set()) for r in policy.registries_for(c))
        )

    def refusal(self, customer_key: str, channel: Channel) -> ContactRefusal | None:
        """None when a contact on `channel` may go out now; else the reason it is refused."""
        if channel in self.channels(customer_key):
            return None
        with self._redis.pipeline(transaction=False) as pipe:
            pipe.hvals(self._key(customer_key, "purposes"))
            pipe.hgetall(self._key(customer_key, "privacy"))
            pipe.hgetall(self._key(customer_key, "registries"))
            purposes, privacy, registries = pipe.execute()
        if not any(Purpose.MARKETING.value in value.decode().split(",") for value in purposes):
            return ContactRefusal.NO_MARKETING_CONSENT
        if privacy.get(b"profiling_objected") == b"1":
            return ContactRefusal.PROFILING_OBJECTED
        jurisdiction = privacy.get(b"jurisdiction")
        policy = policy_for(jurisdiction.decode() if jurisdiction else None)
        for registry in policy.registries_for(channel):
            if channel.value in (registries.get(registry.encode()) or b"").decode().split(","):
                return ContactRefusal.DO_NOT_CONTACT_REGISTRY
        return ContactRefusal.CHANNEL_NOT_PERMITTED

    def profiling_objected(self, customer_key: str) -> bool:
        return self._redis.hget(self._key(customer_key, "privacy"), "profiling_objected") == b"1"

    def _key(self, customer_key: str, part: str) -> str:
        return keys.customer(self._namespace, customer_key, part)
