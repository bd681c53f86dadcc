"""Webhook adapter: POST the delivery to a CRM endpoint, with an idempotency key, timeout and retries.

5xx, 429 and transport errors are retried with exponential backoff; after the last attempt the failure
is transient (the consumer retries the record later). Any other 4xx is permanent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict

import httpx
from pydantic import BaseModel, Field, SecretStr

from campaigns.adapters.base import (
    ChannelAdapter,
    Delivery,
    DeliveryReceipt,
    PermanentDeliveryError,
    TransientDeliveryError,
)

IDEMPOTENCY_HEADER = "Idempotency-Key"


class WebhookConfig(BaseModel):
    url: str = Field(min_length=1)
    timeout_s: float = Field(default=5.0, gt=0)
    max_attempts: int = Field(default=3, ge=1)
    backoff_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=5.0, ge=0)
    token: SecretStr | None = None
    health_url: str | None = None


class WebhookAdapter(ChannelAdapter):
    name = "webhook"

    def __init__(
        self,
        config: WebhookConfig,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._config = config
        headers = {"Authorization": f"Bearer {config.token.get_secret_value()}"} if config.token else {}
        self._client = client or httpx.Client(timeout=config.timeout_s, headers=headers)
        self._sleep = sleep

    def send(self, delivery: Delivery) -> DeliveryReceipt:
        body = asdict(delivery)
        body["reason_codes"] = list(delivery.reason_codes)
        last_error = ""
        for attempt in range(1, self._config.max_attempts + 1):
            try:
                response = self._client.post(
                    self._config.url, json=body, headers={IDEMPOTENCY_HEADER: delivery.offer_id},
                    timeout=self._config.timeout_s,
                )
            except httpx.TransportError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            else:
                if response.is_success:
                    return DeliveryReceipt(adapter=self.name, reference=response.headers.get("X-Request-Id"))
                if response.status_code != 429 and response.status_code < 500:
                    raise PermanentDeliveryError(f"CRM refused the delivery: HTTP {response.status_code}")
                last_error = f"HTTP {response.status_code}"
            if attempt < self._config.max_attempts:
                self._sleep(min(self._config.backoff_max_s, self._config.backoff_s * 2 ** (attempt - 1)))
        raise TransientDeliveryError(f"CRM unavailable after {self._config.max_attempts} attempts: {last_error}")

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
