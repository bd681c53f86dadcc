"""OAuth2 token endpoint (client credentials, RFC 6749 §4.4), the published signing keys (JWKS), and the
built-in OIDC issuer's sign-in (password grant, dev/test only).

Errors are problem+json carrying RFC 6749's `error` code as an extension member, so both OAuth client
libraries and the rest of the API's clients read them.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qs, unquote

import redis
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from gateway.clients import ClientRegistry
from gateway.deps import SettingsDep
from gateway.domain import tokens
from gateway.domain.clients import DUMMY_HASH, granted_role, secret_matches
from gateway.domain.local_idp import DEFAULT_CLIENT, LocalIssuer
from gateway.domain.quota import Bucket
from gateway.identity import CLIENT_TOKEN_USE, Authenticator
from gateway.limiter import RateLimiter
from prometeo import clock
from prometeo.telemetry.metrics import GATEWAY_REJECTIONS
from prometeo.web import Problem

router = APIRouter(tags=["oauth"])
log = logging.getLogger(__name__)
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MAX_FORM_BYTES = 4096


def _now(request: Request) -> Callable[[], datetime]:
    now: Callable[[], datetime] = getattr(request.app.state, "now", clock.now)
    return now


def _clients(request: Request) -> ClientRegistry:
    return request.app.state.clients


def _authenticator(request: Request) -> Authenticator:
    return request.app.state.authenticator


def _limiter(request: Request) -> RateLimiter:
    return request.app.state.limiter


def _local_idp(request: Request) -> LocalIssuer:
    issuer: LocalIssuer | None = getattr(request.app.state, "local_idp", None)
    if issuer is None:
        raise Problem(404, "Not found", "the built-in OIDC issuer is disabled")
    return issuer


NowDep = Annotated[Callable[[], datetime], Depends(_now)]


def _oauth_error(status: int, error: str, detail: str, **headers: str) -> Problem:
    GATEWAY_REJECTIONS.labels("token_refused").inc()
    return Problem(status, "Token request refused", detail, error=error, headers={**_NO_STORE, **headers})


async def _form(request: Request) -> dict[str, str]:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise _oauth_error(400, "invalid_request", "send application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise _oauth_error(400, "invalid_request", "request too large")
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    if any(len(values) > 1 for values in parsed.values()):
        raise _oauth_error(400, "invalid_request", "a parameter was sent twice")  # RFC 6749 §3.2
    return {name: values[0] for name, values in parsed.items()}


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """client_secret_basic (RFC 6749 §2.3.1): both parts form-url-encoded, then Base64."""
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise _oauth_error(401, "invalid_client", "malformed Basic credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise _oauth_error(401, "invalid_client", "malformed Basic credentials")
    return unquote(client_id), unquote(secret)


# Token requests per client id and minute: plenty for a client caching its 5-minute tokens, hopeless for guessing.
TOKEN_REQUESTS_PER_MINUTE = 30


async def _throttle(limiter: RateLimiter, client_id: str) -> None:
    try:
        quota = await limiter.hit([Bucket(f"token:{client_id[:64] or '-'}", TOKEN_REQUESTS_PER_MINUTE)])
    except (redis.RedisError, OSError) as exc:
        raise Problem(503, "Token service unavailable", "retry later", headers={"Retry-After": "5"}) from exc
    if quota.exceeded:
        raise _oauth_error(429, "slow_down", "too many token requests for this client", **quota.headers())


def _form_schema(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    """The form's OpenAPI description (the body is parsed by hand: no multipart dependency for one form)."""
    schema = {"type": "object", "required": required, "properties": properties}
    return {"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}}


_STRING = {"type": "string"}
_TOKEN_FORM = _form_schema(
    ["grant_type"],
    {
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
        "client_id": _STRING,
        "client_secret": _STRING,
        "scope": {"type": "string", "description": "The one role the token acts as"},
    },
)
_SIGN_IN_FORM = _form_schema(
    ["grant_type", "username", "password"],
    {
        "grant_type": {"type": "string", "enum": ["password"]},
        "username": _STRING,
        "password": _STRING,
        "client_id": _STRING,
    },
)


@router.post("/oauth/token", summary="OAuth2 client-credentials token", openapi_extra=_TOKEN_FORM)
async def token(
    request: Request,
    settings: SettingsDep,
    clients: Annotated[ClientRegistry, Depends(_clients)],
    authenticator: Annotated[Authenticator, Depends(_authenticator)],
    limiter: Annotated[RateLimiter, Depends(_limiter)],
    now: NowDep,
) -> JSONResponse:
    form = await _form(request)
    if form.get("grant_type") != "client_credentials":
        raise _oauth_error(400, "unsupported_grant_type", "only grant_type=client_credentials is supported here")
    basic = _basic_credentials(request.headers.get("authorization"))
    if basic and ("client_secret" in form):
        raise _oauth_error(400, "invalid_request", "use one client authentication method")
    client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
    await _throttle(limiter, client_id)
    record = await clients.get(client_id) if client_id else None
    # Unknown ids cost one hash check too, so timing does not reveal which ids exist.
    valid = secret_matches(secret, record.secret_hash if record else DUMMY_HASH)
    if record is None or not valid or record.disabled:
        log.info("client authentication failed")
        challenge = {"WWW-Authenticate": 'Basic realm="prometeo"'} if basic else {}
        raise _oauth_error(401, "invalid_client", "unknown client, wrong secret or disabled client", **challenge)
    role = granted_role(record, form.get("scope"))
    if role is None:
        held = " ".join(r.value for r in record.scopes)
        raise _oauth_error(400, "invalid_scope", f"request exactly one of this client's scopes: {held}")
    issued = tokens.issue(
        authenticator.signing,
        issuer=authenticator.token_issuer,
        audience=authenticator.token_audience,
        subject=record.client_id,
        lifetime=timedelta(seconds=settings.token_lifetime_s),
        now=now(),
        extra={"client_id": record.client_id, "scope": role.value, "token_use": CLIENT_TOKEN_USE},
    )
    body = {
        "access_token": issued.access_token,
        "token_type": issued.token_type,
        "expires_in": issued.expires_in,
        "scope": issued.scope,
    }
    return JSONResponse(body, headers=_NO_STORE)


@router.get("/.well-known/jwks.json", summary="Public keys verifying the gateway's tokens")
async def jwks(authenticator: Annotated[Authenticator, Depends(_authenticator)]) -> JSONResponse:
    # Short cache: a newly added key reaches verifiers within minutes, well before it starts signing.
    return JSONResponse(authenticator.signing.jwks(), headers={"Cache-Control": "public, max-age=300"})


@router.post(
    "/oidc/token", summary="Built-in OIDC issuer: sign in (password grant; dev/test only)", openapi_extra=_SIGN_IN_FORM
)
async def oidc_token(
    request: Request, issuer: Annotated[LocalIssuer, Depends(_local_idp)], now: NowDep
) -> JSONResponse:
    form = await _form(request)
    if form.get("grant_type") != "password":
        raise _oauth_error(400, "unsupported_grant_type", "the built-in issuer supports grant_type=password")
    user = issuer.check(form.get("username", ""), form.get("password", ""))
    if user is None:
        raise _oauth_error(400, "invalid_grant", "unknown user or wrong password")
    signed_in = issuer.sign_in(user, form.get("client_id") or DEFAULT_CLIENT, now())
    return JSONResponse(signed_in.model_dump(), headers=_NO_STORE)


@router.get("/oidc/.well-known/openid-configuration", summary="Built-in OIDC issuer discovery (dev/test only)")
async def oidc_discovery(request: Request, issuer: Annotated[LocalIssuer, Depends(_local_idp)]) -> dict[str, Any]:
    base = issuer.issuer.removesuffix("/oidc")
    return {
        "issuer": issuer.issuer,
        "token_endpoint": f"{issuer.issuer}/token",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "grant_types_supported": ["password"],
        "id_token_signing_alg_values_supported": [tokens.ALGORITHM],
        "subject_types_supported": ["public"],
        "claims_supported": ["sub", "name", "preferred_username", "roles", "branch", "portfolio"],
    }
