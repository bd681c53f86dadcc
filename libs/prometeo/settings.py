"""Settings shared by every service. Each service subclasses with its own env prefix
(`PROMETEO_SCORING_...`); the shared connection fields keep their well-known unprefixed names."""

from __future__ import annotations

import types
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_PSEUDONYM_KEY = "dev-only-pseudonym-key-change-me"
DEV_SERVICE_TOKEN_KEY = "dev-only-service-token-key-change-me-0123456789"


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


def _optional(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation)


class SharedSettings(BaseSettings):
    # `X | None` settings (structured ones are JSON in the environment): `null` or an empty value is
    # None, i.e. off. Without `env_parse_none_str`, pydantic-settings decodes `null` to None and then
    # drops it as "not set", so the default (e.g. campaigns' 21:00–08:00 quiet hours) silently stays.
    model_config = SettingsConfigDict(env_prefix="PROMETEO_", extra="ignore", env_parse_none_str="null")

    environment: Literal["dev", "test", "staging", "prod"] = Field(default="dev", validation_alias=_env("PROMETEO_ENV"))
    kafka_bootstrap_servers: str = Field(default="127.0.0.1:9092", validation_alias=_env("KAFKA_BOOTSTRAP_SERVERS"))
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", validation_alias=_env("REDIS_URL"))
    mlflow_tracking_uri: str = Field(default="http://127.0.0.1:5000", validation_alias=_env("MLFLOW_TRACKING_URI"))
    pseudonym_key: SecretStr = Field(
        default=SecretStr(DEV_PSEUDONYM_KEY), validation_alias=_env("PROMETEO_PSEUDONYM_KEY")
    )
    # Signs and verifies the service tokens internal calls carry (prometeo.service_tokens); HS256, ≥ 32 bytes.
    service_token_key: SecretStr = Field(
        default=SecretStr(DEV_SERVICE_TOKEN_KEY), validation_alias=_env("PROMETEO_SERVICE_TOKEN_KEY")
    )
    # During a rotation: the key being retired, still accepted (never signed with).
    service_token_previous_key: SecretStr | None = Field(
        default=None, validation_alias=_env("PROMETEO_SERVICE_TOKEN_PREVIOUS_KEY")
    )
    service_token_ttl_s: int = Field(default=60, ge=5, le=300, validation_alias=_env("PROMETEO_SERVICE_TOKEN_TTL_S"))
    log_level: str = Field(default="INFO", validation_alias=_env("PROMETEO_LOG_LEVEL"))
    # Short group sessions make a consumer join in seconds; Kafka's 45 s default is for big fleets.
    consumer_session_timeout_ms: int = Field(
        default=6000, validation_alias=_env("PROMETEO_CONSUMER_SESSION_TIMEOUT_MS")
    )
    consumer_max_poll_records: int = Field(default=500, validation_alias=_env("PROMETEO_CONSUMER_MAX_POLL_RECORDS"))
    # A consumer stops rather than drain a topic into its DLQ: more than this share of a window fails.
    dlq_max_ratio: float = Field(default=0.5, validation_alias=_env("PROMETEO_DLQ_MAX_RATIO"))
    dlq_window: int = Field(default=200, validation_alias=_env("PROMETEO_DLQ_WINDOW"))
    # A record the broker has not acknowledged in this time fails (503 to the caller, claims released);
    # callers wait at most this plus one second, so every edge timeout must be longer (gateway upstream).
    producer_delivery_timeout_ms: int = Field(
        default=10_000, ge=1000, validation_alias=_env("PROMETEO_PRODUCER_DELIVERY_TIMEOUT_MS")
    )
    # Topic partitions, compaction and retention are checked against contracts/topics.py at start
    # (prometeo.runtime.TopicCheck reads these two); a mismatch fails readiness.
    topic_check_enabled: bool = Field(default=True, validation_alias=_env("PROMETEO_TOPIC_CHECK_ENABLED"))
    topic_partitions: int = Field(default=3, ge=1, validation_alias=_env("PROMETEO_TOPIC_PARTITIONS"))
    # A wiped Redis is detected by the service's epoch marker and its views rebuilt from the log
    # (prometeo.views); the marker is checked on /readyz and every interval.
    views_rebuild: bool = Field(default=True, validation_alias=_env("PROMETEO_VIEWS_REBUILD"))
    views_check_interval_s: float = Field(default=5.0, validation_alias=_env("PROMETEO_VIEWS_CHECK_INTERVAL_S"))
    host: str = "127.0.0.1"
    port: int = 8000

    @model_validator(mode="before")
    @classmethod
    def _empty_optional_is_none(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for name, field in cls.model_fields.items():
            if not _optional(field.annotation):
                continue
            aliases = field.validation_alias.choices if isinstance(field.validation_alias, AliasChoices) else []
            for key in (name, *(a for a in aliases if isinstance(a, str))):
                if isinstance(data.get(key), str) and not data[key].strip():
                    data[key] = None
        return data

    @model_validator(mode="after")
    def _refuse_dev_secrets_outside_dev(self) -> SharedSettings:
        if self.environment not in ("dev", "test") and (self.pseudonym_key.get_secret_value() == DEV_PSEUDONYM_KEY):
            raise ValueError("PROMETEO_PSEUDONYM_KEY must be set outside dev/test")
        if self.environment not in ("dev", "test") and (
            self.service_token_key.get_secret_value() == DEV_SERVICE_TOKEN_KEY
        ):
            raise ValueError("PROMETEO_SERVICE_TOKEN_KEY must be set outside dev/test")
        for key in (self.service_token_key, self.service_token_previous_key):
            if key is not None and len(key.get_secret_value().encode()) < 32:
                raise ValueError("service token keys must be at least 32 bytes (openssl rand -hex 32)")
        return self
