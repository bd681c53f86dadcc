"""Who is signed in, read from the gateway's access token held in the session cookie.

The console never trusts these claims for access: every call carries the token and the gateway verifies it.
They only choose what to draw (the menu, the landing page) and when to ask for a new sign-in.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

# Which screens each role opens (the gateway still decides what each call may read).
ADVISOR_ROLES = frozenset({"advisor", "branch_manager", "dpo", "admin"})
MARKETING_ROLES = frozenset({"marketing", "analyst", "branch_manager", "admin"})
CAMPAIGN_ROLES = frozenset({"marketing", "admin"})


@dataclass(frozen=True)
class Session:
    token: str
    user: str
    name: str
    role: str
    portfolio: str | None
    branch: str | None
    expires_at: float

    @property
    def sees_customers(self) -> bool:
        return self.role in ADVISOR_ROLES

    @property
    def sees_kpis(self) -> bool:
        return self.role in MARKETING_ROLES

    @property
    def runs_campaigns(self) -> bool:
        return self.role in CAMPAIGN_ROLES

    @property
    def home(self) -> str:
        return "/today" if self.role in ("advisor", "branch_manager", "dpo") else "/dashboard"


def _claims(token: str) -> dict[str, Any] | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


def read_session(token: str, now: float) -> Session | None:
    """The session a token describes, or None when it is unreadable or expired."""
    claims = _claims(token)
    if claims is None or float(claims.get("exp", 0)) <= now:
        return None
    roles = claims.get("roles") or [claims.get("role") or claims.get("scope") or ""]
    role = str(roles[0] if isinstance(roles, list) and roles else roles)
    return Session(
        token=token,
        user=str(claims.get("preferred_username") or claims.get("sub") or ""),
        name=str(claims.get("name") or claims.get("preferred_username") or claims.get("sub") or ""),
        role=role,
        portfolio=claims.get("portfolio"),
        branch=claims.get("branch"),
        expires_at=float(claims["exp"]),
    )
