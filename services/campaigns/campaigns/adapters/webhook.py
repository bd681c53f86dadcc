"""Webhook adapter: POST the delivery to a CRM endpoint, with an idempotency key, timeout and retries.

Retries and error classification: `http_delivery.py`. Also the CRM of sequences' advisor tasks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict

import httpx
from campaigns.adapters.base import ChannelAdapter, Delivery, DeliveryReceipt
from campaigns.adapters.http_delivery import IDEMPOTENCY_HEADER, HttpEndpointConfig, client_for, post_with_retries

__all__ = ["IDEMPOTENCY_HEADER", "WebhookAdapter", "WebhookConfig"]


class WebhookConfig(HttpEndpointConfig):
    """A CRM endpoint receiving offers and advisor tasks."""


class WebhookAdapter(ChannelAdapter):
    name = "webhook"

    def __init__(
        self,
        config: WebhookConfig,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._config = config
        self._client = client or client_for(config)
        self._sleep = sleep

    def send(self, delivery: Delivery) -> DeliveryReceipt:
        body = asdict(delivery)
        body["reason_codes"] = list(delivery.reason_codes)
        response = post_with_retries(
            self._client, self._config.url, body, delivery.key, timeout_s=self._config.timeout_s,
            max_attempts=self._config.max_attempts, backoff_s=self._config.backoff_s,
            backoff_max_s=self._config.backoff_max_s, sleep=self._sleep, who="CRM",
        )
        return DeliveryReceipt(adapter=self.name, reference=response.headers.get("X-Request-Id"))

    def health(self) -> tuple[bool, str]:
        if not self._config.health_url:
            return True, "webhook (no health url configured)"
        try:
            response = self._client.get(self._config.health_url, timeout=self._config.timeout_s)
        except httpx.TransportError as exc:
            return False, f"CRM unreachable: {type(exc).__name__}"
        return response.is_success, f"CRM health HTTP {response.status_code}"

    def close(self) -> None:
        self._client.close()
