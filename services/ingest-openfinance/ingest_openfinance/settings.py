from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from prometeo.settings import SharedSettings


class Settings(SharedSettings):
    model_config = SettingsConfigDict(env_prefix="PROMETEO_INGEST_OPENFINANCE_", extra="ignore")

    port: int = 8001
    group_id: str = "ingest-openfinance"
    # A source event id seen within this window is a duplicate (bank cores retry).
    dedupe_window_s: int = 7 * 24 * 3600
    max_batch_items: int = 5000
    max_body_bytes: int = 10 * 1024 * 1024
    expiry_sweep_interval_s: float = 30.0


@lru_cache
def get_settings() -> Settings:
    return Settings()
