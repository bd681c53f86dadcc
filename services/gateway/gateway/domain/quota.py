"""Rate-limit arithmetic and the headers that tell a client where it stands.

Headers follow the IETF draft "RateLimit header fields for HTTP": RateLimit-Limit, -Remaining,
-Reset (seconds) and RateLimit-Policy, plus Retry-After on a 429.
"""

from __future__ import annotations

from dataclasses import dataclass

WINDOW_S = 60


@dataclass(frozen=True)
class Quota:
    limit: int
    used: int
    reset_s: int

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
        }
        if self.exceeded:
            out["Retry-After"] = reset
        return out
