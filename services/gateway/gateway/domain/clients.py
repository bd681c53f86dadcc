"""OAuth2 machine clients (CRM, bank cores): who they are, which roles they may act as, their secret.

Secrets are generated here, shown once, and kept only as a salted scrypt hash (RFC 7914; memory-hard,
so a stolen registry cannot be brute-forced cheaply). Comparison is constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime

from pydantic import BaseModel, Field

from gateway.domain.roles import Role

# scrypt cost: 2^14 × 8 × 128 B = 16 MiB and ~50 ms per check, the interactive-login recommendation.
_N, _R, _P, _LEN = 2**14, 8, 1, 32
CLIENT_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


class ClientRecord(BaseModel):
    client_id: str
    name: str
    scopes: list[Role]  # the roles the client may act as
    secret_hash: str
    disabled: bool = False
    created_at: datetime
    # Requests per minute for this client's token bucket; None = the role's default.
    rate_limit_per_minute: int | None = None


class ClientCreate(BaseModel):
    client_id: str = Field(pattern=CLIENT_ID.pattern, description="Lower-case id, e.g. crm-salesforce")
    name: str = Field(min_length=1, max_length=200)
    scopes: list[Role] = Field(min_length=1)
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)


class ClientPublic(BaseModel):
    client_id: str
    name: str
    scopes: list[Role]
    disabled: bool
    created_at: datetime
    rate_limit_per_minute: int | None


class ClientCreated(ClientPublic):
    client_secret: str = Field(description="Shown once; only its salted hash is stored")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=_LEN)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def secret_matches(secret: str, stored: str) -> bool:
    scheme, _, rest = stored.partition("$")
    salt_b64, _, digest_b64 = rest.partition("$")
    if scheme != "scrypt" or not salt_b64 or not digest_b64:
        return False
    candidate = hashlib.scrypt(secret.encode(), salt=base64.b64decode(salt_b64), n=_N, r=_R, p=_P, dklen=_LEN)
    return hmac.compare_digest(candidate, base64.b64decode(digest_b64))


# A fixed hash checked when the client id is unknown, so an unknown id costs the same time as a wrong secret.
DUMMY_HASH = hash_secret("not-a-client-secret", salt=b"prometeo-dummy-0")


def public(record: ClientRecord) -> ClientPublic:
    return ClientPublic.model_validate(record.model_dump(exclude={"secret_hash"}))


def granted_role(record: ClientRecord, requested: str | None) -> Role | None:
    """The one role a token will carry: the requested scope if the client holds it, or its only scope."""
    if requested is None or not requested.strip():
        return record.scopes[0] if len(record.scopes) == 1 else None
    names = requested.split()
    if len(names) != 1 or names[0] not in {r.value for r in record.scopes}:
        return None
    return Role(names[0])
