"""Signed JWTs (PyJWT + cryptography): the gateway's signing keys, the tokens it issues, and the JWKS
it publishes.

Rotation without downtime: the key ring holds every key that may still verify a live token; the
first one signs. To rotate, add the new key second (published, verifying nothing yet), make it
first once every verifier has the new JWKS, and drop the old one after the longest token lifetime.
A token names its key in the `kid` header, so old and new tokens verify side by side.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

ALGORITHM = "ES256"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls, kid: str | None = None) -> SigningKey:
        return cls(kid or f"dev-{secrets.token_hex(4)}", ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_pem(cls, kid: str, pem: str) -> SigningKey:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError(f"signing key {kid!r} must be an EC P-256 private key (ES256)")
        return cls(kid, key)

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = ECAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}


class SigningKeys:
    """The signing keys, newest first: the first signs, all verify and are published."""

    def __init__(self, keys: Sequence[SigningKey]) -> None:
        if not keys:
            raise ValueError("at least one signing key is required")
        if len({k.kid for k in keys}) != len(keys):
            raise ValueError("signing key ids (kid) must be unique")
        self._keys = list(keys)

    @property
    def active(self) -> SigningKey:
        return self._keys[0]

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        return {"keys": [k.public_jwk() for k in self._keys]}

    def sign(self, claims: Mapping[str, Any]) -> str:
        key = self.active
        return jwt.encode(dict(claims), key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str
    token_type: str = "Bearer"


def issue(
    keys: SigningKeys,
    *,
    issuer: str,
    audience: str,
    subject: str,
    lifetime: timedelta,
    now: datetime,
    extra: Mapping[str, Any],
) -> IssuedToken:
    """A short-lived token; `jti` makes every token distinct (a leaked one can be told apart)."""
    issued_at = int(now.timestamp())
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + int(lifetime.total_seconds()),
        "jti": uuid.uuid4().hex,
        **extra,
    }
    return IssuedToken(
        access_token=keys.sign(claims), expires_in=int(lifetime.total_seconds()), scope=str(extra.get("scope", ""))
    )


def looks_like_jwt(token: str) -> bool:
    """Compact JWS: three base64url parts. Anything else on the Bearer header is a dev API key."""
    return token.count(".") == 2 and token.startswith("eyJ")


def unverified_issuer(token: str) -> str | None:
    """Only to choose which trusted issuer must verify the token; never trusted by itself."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    issuer = claims.get("iss")
    return issuer if isinstance(issuer, str) else None
