"""Routes each delivery to the adapter of its channel (e-mail → SMTP, SMS/WhatsApp → messaging
provider, advisor tasks → CRM webhook), with a default for every other channel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from campaigns.adapters.base import ChannelAdapter, Delivery, DeliveryError, DeliveryReceipt


class ChannelRouter(ChannelAdapter):
    name = "router"

    def __init__(self, default: ChannelAdapter, routes: Mapping[str, ChannelAdapter] | None = None) -> None:
        self.default = default
        self.routes = dict(routes or {})

    def for_channel(self, channel: str) -> ChannelAdapter:
        return self.routes.get(channel, self.default)

    def send(self, delivery: Delivery) -> DeliveryReceipt:
        return self.for_channel(delivery.channel).send(delivery)

    def send_many(self, deliveries: Sequence[Delivery]) -> list[DeliveryReceipt | DeliveryError]:
        """Each adapter gets its own deliveries in one `send_many`; the results come back in order."""
        by_adapter: dict[int, tuple[ChannelAdapter, list[int]]] = {}
        for position, delivery in enumerate(deliveries):
            adapter = self.for_channel(delivery.channel)
            by_adapter.setdefault(id(adapter), (adapter, []))[1].append(position)
        results: list[DeliveryReceipt | DeliveryError | None] = [None] * len(deliveries)
        for adapter, positions in by_adapter.values():
            for position, result in zip(positions, adapter.send_many([deliveries[p] for p in positions]), strict=True):
                results[position] = result
        return [r for r in results if r is not None]

    def health(self) -> tuple[bool, str]:
        adapters = {id(a): a for a in [self.default, *self.routes.values()]}.values()
        results = [(a.name, *a.health()) for a in adapters]
        return all(ok for _, ok, _ in results), "; ".join(f"{name}: {detail}" for name, _, detail in results)
