from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

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
    # A/B holdout: this share of customers (hashed with the campaign id) receives nothing.
    campaign_id: str = Field(default="nba-always-on", min_length=1)
    control_share: float = Field(default=0.0, ge=0, lt=1)


@lru_cache
def get_settings() -> Settings:
    return Settings()
