"""Channel adapters: `outbox` (default, Redis), `webhook` (CRM over HTTP), `smtp` (e-mail) and
`messaging` (SMS/WhatsApp over an HTTP provider), each behind a circuit breaker, routed by channel."""

from __future__ import annotations

import redis

from campaigns.adapters.base import ChannelAdapter
from campaigns.adapters.guarded import GuardedAdapter
from campaigns.adapters.messaging import MessagingAdapter, MessagingConfig
from campaigns.adapters.outbox import OutboxAdapter
from campaigns.adapters.router import ChannelRouter
from campaigns.adapters.smtp import SmtpAdapter, SmtpConfig
from campaigns.adapters.webhook import WebhookAdapter, WebhookConfig
from campaigns.domain.circuit_breaker import CircuitBreaker
from campaigns.settings import Settings


def _guard(adapter: ChannelAdapter, settings: Settings) -> ChannelAdapter:
    return GuardedAdapter(adapter, CircuitBreaker(settings.breaker_failures, settings.breaker_reset_s))


def build_crm(settings: Settings, client: redis.Redis) -> ChannelAdapter:
    """The CRM: offers without a dedicated channel adapter, and sequences' advisor tasks."""
    if settings.adapter == "webhook":
        if not settings.webhook_url:
            raise ValueError("PROMETEO_CAMPAIGNS_WEBHOOK_URL is required when the adapter is 'webhook'")
        return _guard(
            WebhookAdapter(
                WebhookConfig(
                    url=settings.webhook_url,
                    timeout_s=settings.webhook_timeout_s,
                    max_attempts=settings.webhook_max_attempts,
                    backoff_s=settings.webhook_backoff_s,
                    backoff_max_s=settings.webhook_backoff_max_s,
                    token=settings.webhook_token,
                    health_url=settings.webhook_health_url,
                )
            ),
            settings,
        )
    return OutboxAdapter(client)


def build_adapter(settings: Settings, client: redis.Redis) -> ChannelRouter:
    routes: dict[str, ChannelAdapter] = {}
    if settings.smtp_host:
        routes["email"] = _guard(
            SmtpAdapter(
                SmtpConfig(
                    host=settings.smtp_host,
                    port=settings.smtp_port,
                    sender=settings.smtp_sender,
                    recipient_domain=settings.smtp_recipient_domain,
                    username=settings.smtp_username,
                    password=settings.smtp_password,
                    starttls=settings.smtp_starttls,
                    timeout_s=settings.smtp_timeout_s,
                    max_attempts=settings.smtp_max_attempts,
                    backoff_s=settings.smtp_backoff_s,
                )
            ),
            settings,
        )
    if settings.messaging_url:
        messaging = _guard(
            MessagingAdapter(
                MessagingConfig(
                    url=settings.messaging_url,
                    token=settings.messaging_token,
                    timeout_s=settings.messaging_timeout_s,
                    max_attempts=settings.messaging_max_attempts,
                    backoff_s=settings.messaging_backoff_s,
                    health_url=settings.messaging_health_url,
                )
            ),
            settings,
        )
        routes["sms"] = routes["whatsapp"] = messaging
    return ChannelRouter(build_crm(settings, client), routes)
