"""The built-in OpenID Connect issuer for `make run` and tests: people from a users file (scrypt-hashed
passwords) sign in with the password grant and get an ID token and an access token.

Its tokens carry the same claims a bank's IdP is configured to send (`roles`, `branch`, `portfolio`),
are signed with the gateway's keys and verified through the same OIDC path as any external issuer
(inline JWKS), so nothing downstream knows it is the dev issuer. Refused outside dev/test.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import BaseModel

from gateway.domain import tokens
from gateway.domain.clients import DUMMY_HASH, secret_matches
from gateway.domain.roles import Role

DEFAULT_CLIENT = "prometeo-console"


class DevUser(BaseModel):
    username: str
    name: str
    role: Role
    branch: str | None = None
    portfolio: str | None = None
    password_hash: str


class SignedIn(BaseModel):
    access_token: str
    id_token: str
    token_type: str = "Bearer"
    expires_in: int
    scope: str = "openid"


def load_users(path: Path) -> dict[str, DevUser]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {u.username: u for u in (DevUser.model_validate(item) for item in raw["users"])}


class LocalIssuer:
    def __init__(
        self, users: dict[str, DevUser], keys: tokens.SigningKeys, issuer: str, audience: str, lifetime: timedelta
    ) -> None:
        self._users = users
        self._keys = keys
        self.issuer = issuer
        self._audience = audience
        self._lifetime = lifetime

    def check(self, username: str, password: str) -> DevUser | None:
        user = self._users.get(username)
        # Unknown users cost one hash check too: timing does not reveal who exists.
        matches = secret_matches(password, user.password_hash if user else DUMMY_HASH)
        return user if user is not None and matches else None

    def sign_in(self, user: DevUser, client_id: str, now: datetime) -> SignedIn:
        claims = {
            "roles": [user.role.value],
            "name": user.name,
            "preferred_username": user.username,
            "azp": client_id,
            **({"branch": user.branch} if user.branch else {}),
            **({"portfolio": user.portfolio} if user.portfolio else {}),
        }
        access, identity = (
            tokens.issue(
                self._keys,
                issuer=self.issuer,
                audience=audience,
                subject=user.username,
                lifetime=self._lifetime,
                now=now,
                extra=claims,
            )
            for audience in (self._audience, client_id)
        )
        return SignedIn(access_token=access.access_token, id_token=identity.access_token, expires_in=access.expires_in)
