"""The one factory for the internal HTTP clients privacy code adds outside the gateway (the erasure proof
of `prometeo_dev.privacy`, the rights tests). Service-to-service credentials attach here (an `auth=` hook),
in one place. The gateway's export assembly goes through its own shared upstream client (gateway.upstream)."""

from __future__ import annotations

import httpx

DEFAULT_TIMEOUT_S = 5.0


def internal_client(base_url: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> httpx.Client:
    return httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s)
