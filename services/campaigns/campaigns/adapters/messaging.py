"""SMS and WhatsApp through an HTTP messaging provider (Twilio/Zenvia-style `POST /messages`).

The provider resolves the pseudonymous `to` (customer key) to a phone number. Timeouts, retries with
backoff and the `Idempotency-Key` header come from `http_delivery.py`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from pydantic import Field

from campaigns.adapters.base import ChannelAdapter, Delivery, DeliveryReceipt
from campaigns.adapters.http_delivery import HttpEndpointConfig, client_for, post_with_retries


class MessagingConfig(HttpEndpointConfig):
    url: str = Field(min_length=1, description="The provider's send endpoint, e.g. https://…/v1/messages")


class MessagingAdapter(ChannelAdapter):
    name = "messaging"

    def __init__(
        self, config: MessagingConfig, client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._config = config
        self._client = client or client_for(config)
        self._sleep = sleep

    def send(self, delivery: Delivery) -> DeliveryReceipt:
        body = {
            "to": delivery.customer_key,
            "channel": delivery.channel,
            # The provider holds approved templates (WhatsApp requires them) in Spanish and English.
            "template": f"offer_{delivery.product}",
            "variables": {"product": delivery.product, "offer_id": delivery.offer_id},
            "reference": delivery.key,
        }
        response = post_with_retries(
            self._client, self._config.url, body, delivery.key, timeout_s=self._config.timeout_s,
            max_attempts=self._config.max_attempts, backoff_s=self._config.backoff_s,
            backoff_max_s=self._config.backoff_max_s, sleep=self._sleep, who="messaging provider",
        )
        reference = None
        if response.headers.get("content-type", "").startswith("application/json"):
            reference = str(response.json().get("id")) if isinstance(response.json(), dict) else None
        return DeliveryReceipt(adapter=self.name, reference=reference)

    def health(self) -> tuple[bool, str]:
        if not self._config.health_url:
            return True, "messaging (no health url configured)"
        try:
            response = self._client.get(self._config.health_url, timeout=self._config.timeout_s)
        except httpx.TransportError as exc:
            return False, f"messaging provider unreachable: {type(exc).__name__}"
        return response.is_success, f"messaging provider health HTTP {response.status_code}"
