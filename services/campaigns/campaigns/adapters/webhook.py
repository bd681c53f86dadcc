"""Webhook adapter: POST the delivery to a CRM endpoint, with an idempotency key, timeout and retries.

Retries and error classification: `http_delivery.py`. Also the CRM of sequences' advisor tasks.
"""

from __future__ import annotations

from dataclasses import asdict

from campaigns.adapters.base import Delivery, DeliveryReceipt
from campaigns.adapters.http_delivery import IDEMPOTENCY_HEADER, HttpEndpointAdapter, HttpEndpointConfig

__all__ = ["IDEMPOTENCY_HEADER", "WebhookAdapter", "WebhookConfig"]


class WebhookConfig(HttpEndpointConfig):
    """A CRM endpoint receiving offers and advisor tasks."""


class WebhookAdapter(HttpEndpointAdapter):
    name = "webhook"
    peer = "CRM"

    def send(self, delivery: Delivery) -> DeliveryReceipt:
        body = asdict(delivery)
        body["reason_codes"] = list(delivery.reason_codes)
        response = self._post(body, delivery.key)
        return DeliveryReceipt(adapter=self.name, reference=response.headers.get("X-Request-Id"))
