"""The pluggable edge between a decided offer and a channel (CRM, SMS gateway, e-mail platform…)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Delivery:
    """What a channel needs to contact the customer. No personal data: the CRM resolves the key."""

    offer_id: str
    decision_id: str
    customer_key: str
    product: str
    channel: str
    reason_codes: tuple[str, ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)
    # One per attempt-independent send: a sequence step sends the same offer more than once.
    idempotency_key: str | None = None

    @property
    def key(self) -> str:
        return self.idempotency_key or self.offer_id


@dataclass(frozen=True)
class DeliveryReceipt:
    adapter: str
    reference: str | None = None


class DeliveryError(RuntimeError):
    """Base of delivery failures."""


class TransientDeliveryError(DeliveryError):
    """The channel is unavailable now; retrying later may succeed."""


class PermanentDeliveryError(DeliveryError):
    """The channel refused this delivery; retrying the same request will never succeed."""


class ChannelAdapter(ABC):
    name: str

    @abstractmethod
    def send(self, delivery: Delivery) -> DeliveryReceipt:
        """Deliver once per offer_id (implementations pass it on as an idempotency key)."""

    def send_many(self, deliveries: Sequence[Delivery]) -> list[DeliveryReceipt | DeliveryError]:
        """`send` for each delivery, in order: its receipt, or the DeliveryError it failed with. An adapter
        that can hand several over in one exchange (the outbox: one Redis round trip) overrides it."""
        results: list[DeliveryReceipt | DeliveryError] = []
        for delivery in deliveries:
            try:
                results.append(self.send(delivery))
            except DeliveryError as exc:
                results.append(exc)
        return results

    @abstractmethod
    def health(self) -> tuple[bool, str]:
        """(ok, detail) for /readyz."""
