"""The one factory for the internal HTTP clients privacy code adds (export assembly, erasure proof).
Service-to-service credentials attach here (an `auth=` hook), in one place."""

from __future__ import annotations

import httpx

DEFAULT_TIMEOUT_S = 5.0


def internal_client(base_url: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> httpx.Client:
    return httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s)


def internal_async_client(*, timeout_s: float = DEFAULT_TIMEOUT_S) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=timeout_s)
