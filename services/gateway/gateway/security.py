"""Authentication, rate limiting and authorisation as one route dependency: `require(permission)`.

Order: who are you (401) → how often (429, counted per client and per person, forbidden attempts
included) → may you (403). Credentials are never logged; the principal's actor is a user id, a
client id, or (dev API keys) a short hash.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated

import redis
from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPBearer

from gateway.domain.credentials import CredentialError, Principal, PrincipalKind, extract_key
from gateway.domain.oidc import TokenRejected
from gateway.domain.quota import Bucket, Quota
from gateway.domain.roles import Permission, is_allowed, roles_with
from gateway.identity import Authenticator
from gateway.limiter import RateLimiter
from gateway.settings import Settings, get_settings
from prometeo.telemetry.metrics import GATEWAY_REJECTIONS
from prometeo.web import Problem

log = logging.getLogger(__name__)
REALM = 'Bearer realm="prometeo"'

# Declared for the OpenAPI document only; the raw headers are parsed by the domain code.
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="Dev/test API key")
_bearer = HTTPBearer(auto_error=False, description="An OAuth2 access token (client credentials or OIDC)")


async def _settings() -> Settings:
    # async: FastAPI would run a plain `def` dependency through the threadpool on every request.
    return get_settings()


async def _authenticator(request: Request) -> Authenticator:
    return request.app.state.authenticator


async def _limiter(request: Request) -> RateLimiter:
    return request.app.state.limiter


def _unauthenticated(detail: str, invalid: bool) -> Problem:
    GATEWAY_REJECTIONS.labels("unauthenticated").inc()
    challenge = f'{REALM}, error="invalid_token"' if invalid else REALM
    return Problem(401, "Unauthenticated", detail, headers={"WWW-Authenticate": challenge})


async def authenticate(
    request: Request,
    authenticator: Annotated[Authenticator, Depends(_authenticator)],
    _header: Annotated[str | None, Security(_api_key_header)] = None,
    _token: Annotated[object, Security(_bearer)] = None,
) -> Principal:
    try:
        credential = extract_key(request.headers.get("x-api-key"), request.headers.get("authorization"))
    except CredentialError as exc:
        raise _unauthenticated(exc.reason, invalid=True) from None
    if credential is None:
        raise _unauthenticated("send a bearer token in Authorization (or, in dev, an X-API-Key)", invalid=False)
    try:
        principal = await authenticator.authenticate(credential)
    except TokenRejected as exc:
        log.info("credential refused", extra={"reason": exc.reason})
        raise _unauthenticated(exc.reason, invalid=True) from None
    except (redis.RedisError, OSError) as exc:
        raise Problem(
            503, "Identity unavailable", "the client cannot be checked now", headers={"Retry-After": "2"}
        ) from exc
    request.state.actor = principal.actor
    request.state.principal = principal
    return principal


def buckets_for(principal: Principal, settings: Settings) -> list[Bucket]:
    """A client's own bucket (its registration or configuration, else its role's default) and, for a
    person, the person's: one busy CRM integration never throttles another client of the same role."""
    role_limit = settings.limit_for(principal.role.value)
    if principal.kind is PrincipalKind.API_KEY:
        return [Bucket(principal.actor, role_limit)]
    configured = settings.client_rate_limits_per_minute.get(principal.client_id or "")
    if principal.kind is PrincipalKind.CLIENT and principal.client_id:
        return [Bucket(f"client:{principal.client_id}", configured or principal.rate_limit_per_minute or role_limit)]
    # A person: their own bucket, plus their app's (the IdP's client, e.g. the console) only when one is
    # configured, since every advisor signs in through the same few apps.
    out = [Bucket(f"user:{principal.user_id or principal.actor}", settings.user_rate_limit_per_minute)]
    if principal.client_id and configured:
        out.append(Bucket(f"client:{principal.client_id}", configured))
    return out


async def _count(request: Request, limiter: RateLimiter, principal: Principal, settings: Settings) -> Quota:
    fail_open = settings.rate_limit_fail_open
    try:
        quota = await limiter.hit(buckets_for(principal, settings))
    except (redis.RedisError, OSError) as exc:
        if fail_open:
            log.warning("rate limiter unavailable, failing open", extra={"error": type(exc).__name__})
            return Quota(limit=0, used=0, reset_s=0)
        log.error("rate limiter unavailable", extra={"error": type(exc).__name__})
        raise Problem(
            503,
            "Rate limiter unavailable",
            "requests cannot be counted right now; retry later",
            headers={"Retry-After": "5"},
        ) from exc
    request.state.quota = quota
    if quota.exceeded:
        GATEWAY_REJECTIONS.labels("rate_limited").inc()
        raise Problem(
            429,
            "Too many requests",
            f"limit of {quota.limit} requests per minute reached; retry in {quota.headers()['Retry-After']} s",
            headers=quota.headers(),
        )
    return quota


def require(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    async def dependency(
        request: Request,
        principal: Annotated[Principal, Depends(authenticate)],
        limiter: Annotated[RateLimiter, Depends(_limiter)],
        settings: Annotated[Settings, Depends(_settings)],
    ) -> Principal:
        await _count(request, limiter, principal, settings)
        if not is_allowed(principal.role, permission):
            GATEWAY_REJECTIONS.labels("forbidden").inc()
            log.info(
                "forbidden",
                extra={"actor": principal.actor, "role": principal.role.value, "permission": permission.value},
            )
            allowed = ", ".join(r.value for r in roles_with(permission))
            raise Problem(403, "Forbidden", f"role {principal.role.value!r} may not do this (allowed: {allowed})")
        return principal

    return dependency


def require_any(*permissions: Permission) -> Callable[..., Awaitable[Principal]]:
    """Like `require`, for routes any one of several permissions opens (the assistant: each call it makes is
    then checked on its own route)."""

    async def dependency(
        request: Request,
        principal: Annotated[Principal, Depends(authenticate)],
        limiter: Annotated[RateLimiter, Depends(_limiter)],
        settings: Annotated[Settings, Depends(get_settings)],
    ) -> Principal:
        await _count(request, limiter, principal, settings)
        if not any(is_allowed(principal.role, p) for p in permissions):
            GATEWAY_REJECTIONS.labels("forbidden").inc()
            allowed = sorted({r.value for p in permissions for r in roles_with(p)})
            raise Problem(
                403, "Forbidden", f"role {principal.role.value!r} may not do this (allowed: {', '.join(allowed)})"
            )
        return principal

    return dependency
