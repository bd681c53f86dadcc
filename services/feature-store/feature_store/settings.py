from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from prometeo.settings import SharedSettings


class Settings(SharedSettings):
    model_config = SettingsConfigDict(env_prefix="PROMETEO_FEATURE_STORE_", extra="ignore")

    port: int = 8002
    group_id: str = "feature-store"
    # How long an event id is remembered for idempotency; longer than any redelivery horizon.
    processed_ttl_s: int = 14 * 24 * 3600
    # While polls come back full (a backlog), a consumer batch spans polls for up to this long and up
    # to BATCH_MAX_RECORDS: each customer's vector is computed and published once per batch, not once
    # per poll. At the head of the stream a batch is one poll, as before (no added latency).
    batch_window_ms: int = 500
    batch_max_records: int = 5000


@lru_cache
def get_settings() -> Settings:
    return Settings()
