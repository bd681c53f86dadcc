"""Channel adapters: `outbox` (default, Redis) and `webhook` (CRM over HTTP)."""

from __future__ import annotations

import redis

from campaigns.adapters.base import ChannelAdapter
from campaigns.adapters.outbox import OutboxAdapter
from campaigns.adapters.webhook import WebhookAdapter, WebhookConfig
from campaigns.settings import Settings


def build_adapter(settings: Settings, client: redis.Redis) -> ChannelAdapter:
    if settings.adapter == "webhook":
        if not settings.webhook_url:
            raise ValueError("PROMETEO_CAMPAIGNS_WEBHOOK_URL is required when the adapter is 'webhook'")
        return WebhookAdapter(WebhookConfig(
            url=settings.webhook_url,
            timeout_s=settings.webhook_timeout_s,
            max_attempts=settings.webhook_max_attempts,
            backoff_s=settings.webhook_backoff_s,
            token=settings.webhook_token,
            health_url=settings.webhook_health_url,
        ))
    return OutboxAdapter(client)
