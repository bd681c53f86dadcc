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
    # How often the policy file's mtime is checked for a hot reload.
    policy_check_interval_s: float = 1.0
    # How long an event id is remembered for idempotency; longer than any redelivery horizon.
    processed_ttl_s: int = 14 * 24 * 3600
    scores_ttl_s: int = 30 * 24 * 3600
    # Contacts and declines are kept this long; must exceed the longest cooldown/repeat window.
    contact_retention_days: int = 90
    # Scores still in flight after an erasure are ignored for this long (unless a new consent arrives).
    erased_ttl_s: int = 7 * 24 * 3600
    # A presentation identical to one the broker acknowledged this long ago or less is not recorded again
    # (next_best_action/presented.py); 0 records every presentation (what a first showing costs).
    presentation_repeat_ttl_s: float = 60.0


@lru_cache
def get_settings() -> Settings:
    return Settings()
