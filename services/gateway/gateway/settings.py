from functools import lru_cache

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from gateway.domain.roles import Role
from prometeo.settings import SharedSettings

# Development keys, refused outside dev/test (see the validator).
DEV_API_KEYS = {
    "dev-admin-key": "admin",
    "dev-advisor-key": "advisor",
    "dev-crm-key": "crm",
    "dev-marketing-key": "marketing",
    "dev-ingest-key": "ingest",
}
# Outside dev a key must carry enough entropy that guessing it under the rate limit is hopeless.
MIN_KEY_LENGTH = 32


class Settings(SharedSettings):
    model_config = SettingsConfigDict(env_prefix="PROMETEO_GATEWAY_", extra="ignore")

    port: int = 8000
    # API key → role (admin, advisor, crm, marketing, ingest). JSON in the environment.
    api_keys: dict[str, str] = DEV_API_KEYS
    ingest_url: str = "http://127.0.0.1:8001"
    feature_store_url: str = "http://127.0.0.1:8002"
    scoring_url: str = "http://127.0.0.1:8003"
    next_best_action_url: str = "http://127.0.0.1:8004"
    campaigns_url: str = "http://127.0.0.1:8005"
    rate_limit_per_minute: int = 600
    # Per-role overrides: bank cores and aggregators push event batches, far above interactive use.
    role_rate_limits_per_minute: dict[str, int] = Field(default_factory=lambda: {"ingest": 120_000})
    # Without Redis the limiter cannot count; refusing (503) is the safe default for a bank edge.
    rate_limit_fail_open: bool = False
    upstream_timeout_s: float = 5.0
    upstream_connect_timeout_s: float = 1.0
    # Upstream /healthz is polled in the background so /readyz never waits on a slow upstream.
    upstream_health_interval_s: float = 10.0
    max_ingest_body_bytes: int = 5 * 1024 * 1024

    @model_validator(mode="after")
    def _check_api_keys(self) -> "Settings":
        unknown = sorted(set(self.api_keys.values()) - {r.value for r in Role})
        if unknown:
            raise ValueError(f"unknown role(s) in api_keys: {unknown}")
        if self.environment not in ("dev", "test"):
            if set(self.api_keys) & set(DEV_API_KEYS):
                raise ValueError("development API keys are not allowed outside dev/test")
            if any(len(key) < MIN_KEY_LENGTH for key in self.api_keys):
                raise ValueError(f"API keys must be at least {MIN_KEY_LENGTH} characters outside dev/test")
        return self

    def limit_for(self, role: str) -> int:
        return self.role_rate_limits_per_minute.get(role, self.rate_limit_per_minute)


@lru_cache
def get_settings() -> Settings:
    return Settings()
