"""Routes each delivery to the adapter of its channel (e-mail → SMTP, SMS/WhatsApp → messaging
provider, advisor tasks → CRM webhook), with a default for every other channel."""

from __future__ import annotations

from collections.abc import Mapping

from campaigns.adapters.base import ChannelAdapter, Delivery, DeliveryReceipt


class ChannelRouter(ChannelAdapter):
    name = "router"

    def __init__(self, default: ChannelAdapter, routes: Mapping[str, ChannelAdapter] | None = None) -> None:
        self.default = default
        self.routes = dict(routes or {})

    def for_channel(self, channel: str) -> ChannelAdapter:
        return self.routes.get(channel, self.default)

    def send(self, delivery: Delivery) -> DeliveryReceipt:
        return self.for_channel(delivery.channel).send(delivery)

    def health(self) -> tuple[bool, str]:
        adapters = {id(a): a for a in [self.default, *self.routes.values()]}.values()
        results = [(a.name, *a.health()) for a in adapters]
        return all(ok for _, ok, _ in results), "; ".join(f"{name}: {detail}" for name, _, detail in results)
