"""API keys: where a request carries one, and which role it maps to.

Keys are compared as SHA-256 digests with `hmac.compare_digest`, against every configured key
without an early exit, so neither the match position nor a key's length shows in the timing.
The key itself never leaves this module: callers get a short hash as the actor id.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from gateway.domain.roles import Role

BEARER = "bearer"


class CredentialError(ValueError):
    """The request's credentials are unusable; `reason` is safe to show (never contains the key)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PrincipalKind(StrEnum):
    API_KEY = "api_key"  # dev/test only
    CLIENT = "client"  # a machine client holding a client-credentials token
    USER = "user"  # a person signed in through an OIDC issuer


@dataclass(frozen=True)
class Principal:
    """Who is calling, as every later check and the audit trail see it.

    `actor` is the name on the audit trail: the user id for people, the client id for machine
    clients, a short hash for dev API keys. A person's token may also name the client (the app)
    it was issued to; `branch_id` and `portfolio_id` bound what an advisor or manager may read.
    """

    actor: str
    role: Role
    kind: PrincipalKind = PrincipalKind.API_KEY
    client_id: str | None = None
    user_id: str | None = None
    branch_id: str | None = None
    portfolio_id: str | None = None
    # The branch's zone for the working-hours rule; None = the guard's default zone.
    timezone: str | None = None
    # A registered client's own limit (requests per minute), when its registration sets one.
    rate_limit_per_minute: int | None = None


def extract_key(x_api_key: str | None, authorization: str | None) -> str | None:
    """The presented key from `X-API-Key` or `Authorization: Bearer <key>`; None when neither is sent."""
    header_key = (x_api_key or "").strip() or None
    bearer_key: str | None = None
    if authorization and authorization.strip():
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != BEARER or not token.strip():
            raise CredentialError("Authorization must use the Bearer scheme")
        bearer_key = token.strip()
    if header_key and bearer_key and not _same(header_key, bearer_key):
        raise CredentialError("X-API-Key and Authorization carry different keys")
    return header_key or bearer_key


def actor_id(key: str) -> str:
    return "key_" + hashlib.sha256(key.encode()).hexdigest()[:12]


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(_digest(a), _digest(b))


class KeyRing:
    """The configured keys as digests → role. Built once at startup; unknown roles fail fast."""

    def __init__(self, api_keys: Mapping[str, str]) -> None:
        self._entries = [(_digest(key), Role(role), actor_id(key)) for key, role in api_keys.items()]

    def authenticate(self, presented: str) -> Principal | None:
        candidate = _digest(presented)
        found: Principal | None = None
        for digest, role, actor in self._entries:
            if hmac.compare_digest(candidate, digest) and found is None:
                found = Principal(actor=actor, role=role)
        return found
