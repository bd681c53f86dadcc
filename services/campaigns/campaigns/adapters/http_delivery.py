"""One HTTP POST with retries, and the adapter base built on it, shared by the webhook (CRM) and
messaging (SMS/WhatsApp) adapters.

5xx, 429 and transport errors (timeouts included) are retried with capped exponential backoff and the
same `Idempotency-Key`, so a provider that received the first attempt de-duplicates the next; after the
last attempt the failure is transient (the delivery is parked and retried later). Any other 4xx is
permanent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, Field, SecretStr

from campaigns.adapters.base import ChannelAdapter, PermanentDeliveryError, TransientDeliveryError

IDEMPOTENCY_HEADER = "Idempotency-Key"


def backoff_delay(attempt: int, base_s: float, max_s: float) -> float:
    """Delay after the `attempt`-th failure (1-based): base, 2×base, 4×base… capped at max_s."""
    return min(max_s, base_s * 2 ** (attempt - 1))


class HttpEndpointConfig(BaseModel):
    """What every HTTP provider adapter needs: where, how it authenticates, and how it retries."""

    url: str = Field(min_length=1)
    token: SecretStr | None = None
    timeout_s: float = Field(default=5.0, gt=0)
    max_attempts: int = Field(default=3, ge=1)
    backoff_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=5.0, ge=0)
    health_url: str | None = None


def client_for(config: HttpEndpointConfig) -> httpx.Client:
    headers = {"Authorization": f"Bearer {config.token.get_secret_value()}"} if config.token else {}
    return httpx.Client(timeout=config.timeout_s, headers=headers)


def post_with_retries(
    client: httpx.Client,
    url: str,
    body: dict[str, Any],
    key: str,
    *,
    timeout_s: float,
    max_attempts: int,
    backoff_s: float,
    backoff_max_s: float,
    sleep: Callable[[float], None],
    who: str,
) -> httpx.Response:
    last_error = ""
    for attempt in range(1, max_attempts + 1):
        try:
            response = client.post(url, json=body, headers={IDEMPOTENCY_HEADER: key}, timeout=timeout_s)
        except httpx.TransportError as exc:
            last_error = f"{type(exc).__name__}: {exc}"
        else:
            if response.is_success:
                return response
            if response.status_code != 429 and response.status_code < 500:
                raise PermanentDeliveryError(f"{who} refused the delivery: HTTP {response.status_code}")
            last_error = f"HTTP {response.status_code}"
        if attempt < max_attempts:
            sleep(backoff_delay(attempt, backoff_s, backoff_max_s))
    raise TransientDeliveryError(f"{who} unavailable after {max_attempts} attempts: {last_error}")


class HttpEndpointAdapter(ChannelAdapter):
    """A provider reached over HTTP: subclasses build the body and read the receipt; posting, retries
    and the health probe are the same for all. `peer` names the provider in errors and health."""

    peer: ClassVar[str]

    def __init__(
        self,
        config: HttpEndpointConfig,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._config = config
        self._client = client or client_for(config)
        self._sleep = sleep

    def _post(self, body: dict[str, Any], key: str) -> httpx.Response:
        c = self._config
        return post_with_retries(
            self._client,
            c.url,
            body,
            key,
            timeout_s=c.timeout_s,
            max_attempts=c.max_attempts,
            backoff_s=c.backoff_s,
            backoff_max_s=c.backoff_max_s,
            sleep=self._sleep,
            who=self.peer,
        )

    def health(self) -> tuple[bool, str]:
        if not self._config.health_url:
            return True, f"{self.name} (no health url configured)"
        try:
            response = self._client.get(self._config.health_url, timeout=self._config.timeout_s)
        except httpx.TransportError as exc:
            return False, f"{self.peer} unreachable: {type(exc).__name__}"
        return response.is_success, f"{self.peer} health HTTP {response.status_code}"

    def close(self) -> None:
        self._client.close()
