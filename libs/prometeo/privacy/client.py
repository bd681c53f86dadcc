"""The one factory for the internal HTTP clients privacy code adds outside the gateway (the erasure proof
of `prometeo_dev.privacy`, the rights tests): each request carries a service token for the service asked
(prometeo.service_tokens). The gateway's export assembly goes through its own shared upstream client
(gateway.upstream)."""

from __future__ import annotations

import httpx

from prometeo.service_tokens import internal_client as service_client
from prometeo.settings import SharedSettings

DEFAULT_TIMEOUT_S = 5.0
ISSUER = "privacy"


def internal_client(base_url: str, service: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> httpx.Client:
    return service_client(SharedSettings(), ISSUER, audience=service, base_url=base_url.rstrip("/"), timeout=timeout_s)
