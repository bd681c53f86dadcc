from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from prometeo.settings import SharedSettings


class Settings(SharedSettings):
    model_config = SettingsConfigDict(env_prefix="PROMETEO_CONSOLE_", extra="ignore")

    port: int = 8010
    # The one API the console calls: the public gateway (its people sign in through it, too).
    gateway_url: str = "http://127.0.0.1:8000"
    gateway_timeout_s: float = Field(default=10.0, gt=0)
    # The signed-in person's access token lives in this cookie (httpOnly, SameSite=Strict).
    session_cookie: str = "prometeo_session"
    # Secure (HTTPS only) everywhere but a laptop's plain-HTTP loopback stack (dev/test may turn it off).
    cookie_secure: bool = True
    page_size: int = Field(default=20, ge=5, le=100)


@lru_cache
def get_settings() -> Settings:
    return Settings()
