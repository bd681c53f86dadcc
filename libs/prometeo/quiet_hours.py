"""Quiet hours: the local hours (in the customer's time zone) when interrupting channels stay silent.

Shared by next-best-action (which picks another channel or waits for the next decision) and campaigns
(which holds a sequence step until the window ends). Validated like any policy: an unquoted YAML time
or an unknown time zone is refused at load.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from prometeo.contracts import Channel


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
    return name


class QuietHours(BaseModel):
    """start > end wraps midnight (21:00–08:00)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: time
    end: time
    channels: list[Channel] = [Channel.SMS, Channel.WHATSAPP, Channel.APP_PUSH, Channel.ADVISOR]
    default_timezone: str = "America/Sao_Paulo"

    @field_validator("start", "end", mode="before")
    @classmethod
    def _quoted(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted 21:00 as the integer 1260: refuse it rather than mis-read it.
        if isinstance(value, int):
            raise ValueError("write times as quoted strings, e.g. '21:00'")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_timezone(value)

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("start and end are equal: the window would be empty")
        return self

    def is_quiet(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def zone(self, timezone: str | None) -> ZoneInfo:
        """The customer's zone, or the default when it is missing or unknown."""
        try:
            return ZoneInfo(timezone or self.default_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(self.default_timezone)

    def silences(self, channel: Channel, now: datetime, timezone: str | None) -> bool:
        return channel in self.channels and self.is_quiet(now.astimezone(self.zone(timezone)).time())

    def ends_after(self, now: datetime, timezone: str | None) -> datetime:
        """When the window `now` falls in ends (the next local `end`); `now` itself outside the window."""
        local = now.astimezone(self.zone(timezone))
        if not self.is_quiet(local.time()):
            return now
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end = (local + timedelta(days=1)).replace(
                hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0
            )
        return end
