from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from prometeo.settings import SharedSettings


class Settings(SharedSettings):
    model_config = SettingsConfigDict(env_prefix="PROMETEO_FEATURE_STORE_", extra="ignore")

    port: int = 8002
    group_id: str = "feature-store"
    # How long an event id is remembered for idempotency; longer than any redelivery horizon.
    processed_ttl_s: int = 14 * 24 * 3600
    # A consumer batch spans polls for up to this long while records keep coming (and up to
    # BATCH_MAX_RECORDS): each customer's vector is computed and published once per batch, not once
    # per poll. It is also how late a features-updated event (and the commit) may come after its event.
    batch_window_ms: int = 500
    batch_max_records: int = 5000


@lru_cache
def get_settings() -> Settings:
    return Settings()
