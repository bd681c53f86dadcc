from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from prometeo.settings import SharedSettings


class Settings(SharedSettings):
    model_config = SettingsConfigDict(env_prefix="PROMETEO_CAMPAIGNS_", extra="ignore")

    port: int = 8005
    group_id: str = "campaigns"


@lru_cache
def get_settings() -> Settings:
    return Settings()
