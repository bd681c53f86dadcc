"""Rate-limit arithmetic and the headers that tell a client where it stands.

Limits are token buckets: capacity = one minute's requests, refilled continuously at limit/60 per
second, so a client may burst up to its minute and then proceeds at its rate. A request is checked
against every bucket it belongs to (its client's and, for a person, the person's); the tightest one
is reported. Headers follow the IETF draft "RateLimit header fields for HTTP": `RateLimit`
(remaining `r`, seconds to full `t`) and `RateLimit-Policy` (`q` requests per `w` seconds), plus the
earlier drafts' RateLimit-Limit/-Remaining/-Reset that existing clients read, and Retry-After on a 429.
"""

from __future__ import annotations

from dataclasses import dataclass

WINDOW_S = 60


@dataclass(frozen=True)
class Bucket:
    """One token bucket: `subject` names it (`client:crm-a`, `user:ana`, or a dev key's actor)."""

    subject: str
    per_minute: int

    @property
    def rate_per_s(self) -> float:
        return self.per_minute / WINDOW_S


@dataclass(frozen=True)
class Quota:
    limit: int
    used: int
    reset_s: int
    # Seconds until the next request would pass (a token bucket refills before it is full).
    retry_after_s: int | None = None
    policy: str = "default"

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def headers(self) -> dict[str, str]:
        reset = str(max(1, self.reset_s))
        out = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": reset,
            "RateLimit-Policy": f"{self.limit};w={WINDOW_S}",
            "RateLimit": f'"{self.policy}";r={self.remaining};t={reset}',
        }
        if self.exceeded:
            out["Retry-After"] = str(max(1, self.retry_after_s if self.retry_after_s is not None else self.reset_s))
        return out
