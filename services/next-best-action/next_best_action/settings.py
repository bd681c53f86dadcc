from functools import lru_cache
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from prometeo.settings import SharedSettings

DEFAULT_POLICY = Path(__file__).parent / "policies" / "default.yaml"


class Settings(SharedSettings):
    model_config = SettingsConfigDict(env_prefix="PROMETEO_NEXT_BEST_ACTION_", extra="ignore")

    port: int = 8004
    group_id: str = "next-best-action"
    policy_path: Path = DEFAULT_POLICY


@lru_cache
def get_settings() -> Settings:
    return Settings()
