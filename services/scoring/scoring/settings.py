from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from prometeo.settings import SharedSettings


class Settings(SharedSettings):
    model_config = SettingsConfigDict(env_prefix="PROMETEO_SCORING_", extra="ignore")

    port: int = 8003
    group_id: str = "scoring"
    model_name: str = "prometeo-propensity"
    model_alias: str = "champion"
    challenger_alias: str = "challenger"
    # How often the registry is asked whether the alias moved (hot reload).
    reload_interval_s: float = 30.0
    reasons_per_product: int = 3
    # Until a champion exists the registry is asked this often (the service is not ready meanwhile).
    load_retry_s: float = 2.0
    # POST /v1/score accepts at most this many customers in one batch.
    max_batch: int = 200


@lru_cache
def get_settings() -> Settings:
    return Settings()
