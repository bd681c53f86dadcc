"""SMS and WhatsApp through an HTTP messaging provider (Twilio/Zenvia-style `POST /messages`).

The provider resolves the pseudonymous `to` (customer key) to a phone number. Timeouts, retries with
backoff and the `Idempotency-Key` header come from `http_delivery.py`.
"""

from __future__ import annotations

from pydantic import Field

from campaigns.adapters.base import Delivery, DeliveryReceipt
from campaigns.adapters.http_delivery import HttpEndpointAdapter, HttpEndpointConfig


class MessagingConfig(HttpEndpointConfig):
    url: str = Field(min_length=1, description="The provider's send endpoint, e.g. https://…/v1/messages")


class MessagingAdapter(HttpEndpointAdapter):
    name = "messaging"
    peer = "messaging provider"

    def send(self, delivery: Delivery) -> DeliveryReceipt:
        body = {
            "to": delivery.customer_key,
            "channel": delivery.channel,
            # The provider holds approved templates (WhatsApp requires them) in Spanish and English.
            # A triggered action about no product names its own (e.g. action_payment_assistance).
            "template": delivery.metadata.get("template") or f"offer_{delivery.product}",
            "variables": {"product": delivery.product, "offer_id": delivery.offer_id},
            "reference": delivery.key,
        }
        response = self._post(body, delivery.key)
        reference = None
        if response.headers.get("content-type", "").startswith("application/json"):
            reference = str(response.json().get("id")) if isinstance(response.json(), dict) else None
        return DeliveryReceipt(adapter=self.name, reference=reference)
