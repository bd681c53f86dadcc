from __future__ import annotations

from datetime import time
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from gateway.domain.oidc import OidcIssuer
from gateway.domain.roles import Role
from prometeo.settings import SharedSettings

# Development keys (one per role), refused outside dev/test (see the validator).
DEV_API_KEYS = {f"dev-{role.value}-key": role.value for role in Role}
# The built-in OIDC issuer's people, for `make run` and tests (scrypt-hashed passwords).
DEV_USERS_FILE = Path(__file__).with_name("dev_users.json")


class SigningKeyConfig(BaseModel):
    kid: str = Field(min_length=1, max_length=64)
    private_key_pem: SecretStr  # EC P-256 (ES256), PKCS#8 or SEC1 PEM


class Settings(SharedSettings):
    model_config = SettingsConfigDict(env_prefix="PROMETEO_GATEWAY_", extra="ignore")

    port: int = 8000
    group_id: str = "gateway"
    # API key → role. Dev/test only: outside them no API key is accepted at all (tokens only).
    api_keys: dict[str, str] = DEV_API_KEYS
    ingest_url: str = "http://127.0.0.1:8001"
    feature_store_url: str = "http://127.0.0.1:8002"
    scoring_url: str = "http://127.0.0.1:8003"
    next_best_action_url: str = "http://127.0.0.1:8004"
    campaigns_url: str = "http://127.0.0.1:8005"

    # ---- tokens: OAuth2 client credentials and the built-in OIDC issuer -------------------------
    # `iss` of the tokens this gateway issues (its public base URL); the local IdP is `<this>/oidc`.
    token_issuer: str = "http://127.0.0.1:8000"
    token_audience: str = "prometeo-api"
    token_lifetime_s: int = Field(default=300, ge=30, le=3600)
    # Newest first: the first signs, all verify and are published. Empty in dev/test = one key per process.
    token_signing_keys: list[SigningKeyConfig] = Field(default_factory=list)
    # Identity providers trusted for people (Entra ID, Keycloak, Okta…). JSON list in the environment.
    oidc_issuers: list[OidcIssuer] = Field(default_factory=list)
    # The built-in issuer (`POST /oidc/token`, users from a file): dev/test only.
    local_idp_enabled: bool = True
    local_idp_users_file: Path = DEV_USERS_FILE
    # How stale a replica's view of a client's "disabled" flag may be.
    client_cache_s: float = Field(default=1.0, ge=0, le=1.0)

    # ---- rate limits (token buckets: capacity = one minute's worth, refilled continuously) ------
    rate_limit_per_minute: int = 600
    # Per-role overrides: bank cores and aggregators push event batches, far above interactive use.
    role_rate_limits_per_minute: dict[str, int] = Field(default_factory=lambda: {"ingest": 120_000})
    # Per-client overrides (client id → requests per minute); a client's registration may set its own.
    client_rate_limits_per_minute: dict[str, int] = Field(default_factory=dict)
    # Each person has a bucket too, whichever app they call through.
    user_rate_limit_per_minute: int = 300
    # Without Redis the limiter cannot count; refusing (503) is the safe default for a bank edge.
    rate_limit_fail_open: bool = False

    # ---- audit ------------------------------------------------------------------------------------
    # PostgreSQL (postgresql://…) when set; otherwise an embedded SQLite file under data_dir.
    audit_database_url: SecretStr | None = None
    data_dir: Path = Path(".run/gateway")

    # ---- insider-threat guard (people only) -------------------------------------------------------
    guard_enabled: bool = True
    guard_window_s: int = Field(default=3600, ge=60)
    guard_max_customers: int = Field(default=60, ge=1)  # distinct customers per user per window
    guard_working_hours: tuple[time, time] = (time(7, 0), time(20, 0))
    # Monday = 0; branches open on Saturdays.
    guard_working_days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4, 5])
    guard_default_timezone: str = "America/Sao_Paulo"
    branch_timezones: dict[str, str] = Field(default_factory=dict)

    # Longer than any upstream's own bounded wait (ingest waits for the broker's ack at most the shared
    # PROMETEO_PRODUCER_DELIVERY_TIMEOUT_MS + 1 s), so the edge never gives up before the service it
    # waits for and a 503 + Retry-After reaches the caller instead of a 504; checked below.
    upstream_timeout_s: float = 15.0
    upstream_connect_timeout_s: float = 1.0
    # Upstream /healthz is polled in the background so /readyz never waits on a slow upstream.
    upstream_health_interval_s: float = 10.0
    max_ingest_body_bytes: int = 5 * 1024 * 1024

    # ---- the assistant (POST /v1/assistant/questions) --------------------------------------------
    # Its calls go through this gateway's own API as the asking person: in-process by default, or over HTTP
    # to this base URL (e.g. http://127.0.0.1:8000) when set.
    assistant_self_url: str | None = None
    assistant_call_timeout_s: float = 10.0
    # Optional OpenAI-compatible chat-completions endpoint (vLLM, Ollama, a cloud tenant): base URL ending
    # before /chat/completions, e.g. http://127.0.0.1:11434/v1. Unset = the offline parser only.
    assistant_llm_base_url: str | None = None
    assistant_llm_model: str = "prometeo-assistant"
    assistant_llm_api_key: SecretStr | None = None
    assistant_llm_timeout_s: float = 20.0

    @model_validator(mode="after")
    def _check_timeout_order(self) -> Settings:
        publish_wait_s = self.producer_delivery_timeout_ms / 1000 + 1.0
        if self.upstream_timeout_s <= publish_wait_s + 1.0:
            raise ValueError(
                f"PROMETEO_GATEWAY_UPSTREAM_TIMEOUT_S ({self.upstream_timeout_s:g}s) must exceed the upstreams' "
                f"publish wait ({publish_wait_s:g}s, PROMETEO_PRODUCER_DELIVERY_TIMEOUT_MS + 1 s) by more than 1 s"
            )
        return self

    @model_validator(mode="after")
    def _check_credentials(self) -> Settings:
        unknown = sorted(set(self.api_keys.values()) - {r.value for r in Role})
        if unknown:
            raise ValueError(f"unknown role(s) in api_keys: {unknown}")
        if self.environment not in ("dev", "test"):
            if self.api_keys:
                raise ValueError(
                    "development API keys are not allowed outside dev/test: "
                    "set PROMETEO_GATEWAY_API_KEYS={} and use OAuth2 clients and OIDC"
                )
            if not self.token_signing_keys:
                raise ValueError("PROMETEO_GATEWAY_TOKEN_SIGNING_KEYS must be set outside dev/test")
            if self.local_idp_enabled:
                raise ValueError("the built-in OIDC issuer is for dev/test: set LOCAL_IDP_ENABLED=false")
        return self

    @property
    def api_keys_enabled(self) -> bool:
        return self.environment in ("dev", "test")

    @property
    def local_idp_issuer(self) -> str:
        return self.token_issuer.rstrip("/") + "/oidc"

    def limit_for(self, role: str) -> int:
        return self.role_rate_limits_per_minute.get(role, self.rate_limit_per_minute)

    def timezone_for(self, branch_id: str | None) -> str:
        return self.branch_timezones.get(branch_id or "", self.guard_default_timezone)


@lru_cache
def get_settings() -> Settings:
    return Settings()
