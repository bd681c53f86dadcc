from datetime import time
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from prometeo.quiet_hours import QuietHours
from prometeo.settings import SharedSettings


class Settings(SharedSettings):
    model_config = SettingsConfigDict(env_prefix="PROMETEO_CAMPAIGNS_", extra="ignore")

    port: int = 8005
    group_id: str = "campaigns"
    # How long an event id is remembered for idempotency; longer than any redelivery horizon.
    processed_ttl_s: int = 14 * 24 * 3600
    offers_ttl_s: int = 180 * 24 * 3600
    publish_timeout_s: float = 10.0
    adapter: Literal["outbox", "webhook"] = "outbox"
    webhook_url: str | None = None
    webhook_health_url: str | None = None
    webhook_token: SecretStr | None = None
    webhook_timeout_s: float = 5.0
    webhook_max_attempts: int = 3
    webhook_backoff_s: float = 0.5
    webhook_backoff_max_s: float = 5.0
    # E-mail over SMTP (the e-mail channel goes to SMTP when a host is set).
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "ofertas@prometeo.local"
    smtp_recipient_domain: str = "customers.relay.local"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_s: float = 5.0
    smtp_max_attempts: int = 3
    smtp_backoff_s: float = 0.5
    # SMS and WhatsApp through an HTTP messaging provider (when a URL is set).
    messaging_url: str | None = None
    messaging_health_url: str | None = None
    messaging_token: SecretStr | None = None
    messaging_timeout_s: float = 5.0
    messaging_max_attempts: int = 3
    messaging_backoff_s: float = 0.5
    # Circuit breaker per provider: open after this many consecutive failures, trial after reset.
    breaker_failures: int = Field(default=5, ge=1)
    breaker_reset_s: float = Field(default=30.0, ge=0)
    # Parked deliveries (provider down) are retried after backoff, doubling up to the max; never dropped.
    retry_backoff_s: float = Field(default=30.0, ge=0)
    retry_backoff_max_s: float = Field(default=3600.0, ge=0)
    # The scheduler thread polls the durable schedule (Redis sorted set) this often.
    scheduler_interval_s: float = Field(default=1.0, gt=0)
    # A claimed job comes back if its worker dies before finishing it.
    scheduler_lease_s: float = Field(default=60.0, gt=0)
    # Seconds in a sequence "day" (waits are written in days); tests shrink it.
    sequence_day_s: float = Field(default=86400.0, gt=0)
    # How often campaign definitions (and their paused flags) are re-read from Redis.
    definitions_refresh_s: float = Field(default=2.0, ge=0)
    # Sequence steps on interrupting channels wait for the end of the customer's local quiet hours.
    # JSON in the environment, e.g. {"start": "21:00", "end": "08:00"}; null turns it off.
    quiet_hours: QuietHours | None = QuietHours(start=time(21, 0), end=time(8, 0))
    # A paused campaign's due steps are looked at again this often.
    paused_recheck_s: float = Field(default=60.0, gt=0)
    # A step waits this long for the customer's marketing permissions to arrive (consent-events.v1
    # can be consumed after scores.v1); then no permission means the step is not sent.
    permission_wait_s: float = Field(default=3600.0, ge=0)
    # A/B holdout: this share of customers (hashed with the campaign id) receives nothing.
    campaign_id: str = Field(default="nba-always-on", min_length=1)
    control_share: float = Field(default=0.0, ge=0, lt=1)


@lru_cache
def get_settings() -> Settings:
    return Settings()
