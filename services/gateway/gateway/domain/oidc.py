"""Trusted OpenID Connect issuers and what their tokens say about a person.

Every configured issuer names its audience, where its keys are (a JWKS URL or the JWKS inline)
and which claims carry the user id, role, branch and portfolio, so Entra ID, Keycloak or Okta plug
in by configuration. Verification is PyJWT's: signature against the issuer's key for the token's
`kid`, only asymmetric algorithms (never `none`, never HMAC with a public key), `iss`, `aud`,
`exp`, `iat` and `sub` required. The time claims are checked here against the instant the caller passes
(the platform's clock seam), not PyJWT's own reading of the wall clock, so the gateway judges a token's
age on the same clock it issues tokens with.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import jwt
from pydantic import BaseModel, Field, field_validator, model_validator

from gateway.domain.credentials import Principal, PrincipalKind
from gateway.domain.roles import Role

# Asymmetric only: a verifier holding a public key must never accept a token "signed" with it as an HMAC secret.
ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})


class TokenRejected(ValueError):
    """The token is not acceptable; `reason` is safe to show (never contains the token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OidcIssuer(BaseModel):
    issuer: str = Field(description="The `iss` value, e.g. https://login.microsoftonline.com/<tenant>/v2.0")
    audience: str = Field(description="The `aud` the gateway requires (the app registration's client id / API)")
    jwks_url: str | None = None
    jwks: dict[str, Any] | None = Field(default=None, description="Inline JWKS, for issuers without a URL")
    user_claim: str = "sub"
    role_claim: str = "roles"
    branch_claim: str = "branch"
    portfolio_claim: str = "portfolio"
    timezone_claim: str = "zoneinfo"
    client_claim: str = "azp"  # the app the person signed in to
    # IdP role or group name → Prometeo role, for IdPs whose names differ ("Prometeo.Advisor" → advisor).
    role_map: dict[str, Role] = {}
    algorithms: list[str] = ["RS256", "ES256"]
    leeway_s: int = Field(default=30, ge=0, le=300)

    @field_validator("algorithms")
    @classmethod
    def _asymmetric_only(cls, value: list[str]) -> list[str]:
        refused = sorted(set(value) - ASYMMETRIC)
        if refused or not value:
            raise ValueError(f"only asymmetric JWS algorithms are accepted, not {refused or 'none'}")
        return value

    @model_validator(mode="after")
    def _keys_somewhere(self) -> OidcIssuer:
        if (self.jwks_url is None) == (self.jwks is None):
            raise ValueError(f"issuer {self.issuer}: give exactly one of jwks_url or jwks")
        return self


def verify(token: str, issuer: OidcIssuer, key: Any, *, now: datetime) -> dict[str, Any]:
    """The token's claims if it is valid for this issuer at `now`; TokenRejected otherwise."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=issuer.algorithms,
            audience=issuer.audience,
            issuer=issuer.issuer,
            leeway=issuer.leeway_s,
            options={
                "require": ["exp", "iat", "iss", "aud", "sub"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.ExpiredSignatureError:
        raise TokenRejected("the token has expired") from None
    except jwt.InvalidAudienceError:
        raise TokenRejected("the token is not meant for this API (audience)") from None
    except jwt.InvalidIssuerError:
        raise TokenRejected("the token's issuer is not trusted") from None
    except jwt.PyJWTError:
        raise TokenRejected("the token is not valid") from None
    check_times(claims, now.timestamp(), issuer.leeway_s)
    return claims


def check_times(claims: Mapping[str, Any], at: float, leeway_s: int) -> None:
    """exp, iat and (when present) nbf against `at`, with the issuer's allowed clock skew."""
    times = {name: claims.get(name) for name in ("exp", "iat", "nbf")}
    if any(v is not None and (isinstance(v, bool) or not isinstance(v, int | float)) for v in times.values()):
        raise TokenRejected("the token is not valid")
    exp, iat, nbf = times["exp"], times["iat"], times["nbf"]
    if exp is None or at > exp + leeway_s:
        raise TokenRejected("the token has expired")
    if iat is None or iat > at + leeway_s or (nbf is not None and nbf > at + leeway_s):
        raise TokenRejected("the token is not valid yet")


def _roles(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _text(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) and value else None


def person(claims: Mapping[str, Any], issuer: OidcIssuer) -> Principal:
    """The person a verified token names. The first recognised role wins (IdPs list roles in order)."""
    user_id = _text(claims, issuer.user_claim)
    if user_id is None:
        raise TokenRejected(f"the token has no {issuer.user_claim!r} claim")
    known = {r.value for r in Role}
    roles = [
        issuer.role_map.get(name) or (Role(name) if name in known else None)
        for name in _roles(claims.get(issuer.role_claim))
    ]
    role = next((r for r in roles if r is not None), None)
    if role is None:
        raise TokenRejected("the token carries no Prometeo role")
    return Principal(
        actor=user_id,
        role=role,
        kind=PrincipalKind.USER,
        client_id=_text(claims, issuer.client_claim),
        user_id=user_id,
        branch_id=_text(claims, issuer.branch_claim),
        portfolio_id=_text(claims, issuer.portfolio_claim),
        timezone=_text(claims, issuer.timezone_claim),
    )
