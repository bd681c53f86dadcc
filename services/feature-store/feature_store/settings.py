from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from prometeo.settings import SharedSettings


class Settings(SharedSettings):
    model_config = SettingsConfigDict(env_prefix="PROMETEO_FEATURE_STORE_", extra="ignore")

    port: int = 8002
    group_id: str = "feature-store"
    # How long an event id is remembered for idempotency; longer than any redelivery horizon.
    processed_ttl_s: int = 14 * 24 * 3600


@lru_cache
def get_settings() -> Settings:
    return Settings()
