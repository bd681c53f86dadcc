from functools import lru_cache

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from prometeo.settings import SharedSettings

# Development keys, refused outside dev/test (see the validator).
DEV_API_KEYS = {
    "dev-admin-key": "admin",
    "dev-advisor-key": "advisor",
    "dev-crm-key": "crm",
    "dev-marketing-key": "marketing",
}


class Settings(SharedSettings):
    model_config = SettingsConfigDict(env_prefix="PROMETEO_GATEWAY_", extra="ignore")

    port: int = 8000
    # API key → role (admin, advisor, crm, marketing). JSON in the environment.
    api_keys: dict[str, str] = DEV_API_KEYS
    ingest_url: str = "http://127.0.0.1:8001"
    feature_store_url: str = "http://127.0.0.1:8002"
    scoring_url: str = "http://127.0.0.1:8003"
    next_best_action_url: str = "http://127.0.0.1:8004"
    campaigns_url: str = "http://127.0.0.1:8005"
    rate_limit_per_minute: int = 600
    upstream_timeout_s: float = 5.0

    @model_validator(mode="after")
    def _refuse_dev_keys_outside_dev(self) -> "Settings":
        if self.environment not in ("dev", "test") and set(self.api_keys) & set(DEV_API_KEYS):
            raise ValueError("development API keys are not allowed outside dev/test")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
