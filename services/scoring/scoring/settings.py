from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from prometeo.settings import SharedSettings


class Settings(SharedSettings):
    model_config = SettingsConfigDict(env_prefix="PROMETEO_SCORING_", extra="ignore")

    port: int = 8003
    group_id: str = "scoring"
    model_name: str = "prometeo-propensity"
    model_alias: str = "champion"
    challenger_alias: str = "challenger"
    # Share of customers (stable hash of the customer key) scored by the challenger while one is loaded.
    challenger_share: float = Field(default=0.0, ge=0, le=1)
    # Promotion on live traffic (python -m scoring.promotion): campaigns' realised quality per version.
    campaigns_url: str = "http://127.0.0.1:8005"
    promotion_margin: float = 0.01  # realised AUC the challenger must win by
    promotion_min_outcomes: int = 500  # offers sent per version before a verdict
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
