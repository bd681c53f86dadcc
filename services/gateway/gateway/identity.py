"""Bearer credential → Principal: a client-credentials token the gateway issued, an OIDC token from a
trusted issuer, or (dev/test only) an API key.

The unverified `iss` only chooses which trusted issuer must verify the token; a token from any other
issuer is refused before any key is looked up. JWKS behind a URL are fetched by PyJWT's client (cached,
refetched when a new `kid` appears, which is how an IdP's key rotation reaches us).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import jwt
from starlette.concurrency import run_in_threadpool

from gateway.clients import ClientRegistry
from gateway.domain import oidc, tokens
from gateway.domain.credentials import KeyRing, Principal, PrincipalKind
from gateway.domain.oidc import OidcIssuer, TokenRejected
from gateway.domain.roles import Role
from prometeo import clock

CLIENT_TOKEN_USE = "client_credentials"
# Verified tokens, by their exact text: a bearer token is sent on every request for minutes, and its signature
# check (ECDSA or RSA) plus parsing it twice cost ~0.25 ms CPU each time. Only the signature, issuer and
# audience verdict is reused — exp, iat and nbf are judged on every request, the client's state is re-read
# (registry cache, 1 s) — and for at most VERIFIED_CACHE_S, under the JWKS cache's own 300 s.
VERIFIED_CACHE_S = 60.0
VERIFIED_CACHE_SIZE = 10_000


class _IssuerKeys:
    """Where one issuer's verification keys come from: inline JWKS or a cached JWKS URL."""

    def __init__(self, issuer: OidcIssuer) -> None:
        self._inline = jwt.PyJWKSet.from_dict(issuer.jwks) if issuer.jwks is not None else None
        self._remote = jwt.PyJWKClient(issuer.jwks_url, lifespan=300) if issuer.jwks_url else None

    async def key_for(self, token: str) -> Any:
        try:
            if self._inline is not None:
                kid = jwt.get_unverified_header(token).get("kid")
                return self._inline[str(kid)].key
            assert self._remote is not None
            # urllib under the hood: keep the (rare, cached) fetch off the event loop.
            signing_key = await run_in_threadpool(self._remote.get_signing_key_from_jwt, token)
            return signing_key.key
        except (KeyError, jwt.PyJWTError):
            raise TokenRejected("the token is signed with an unknown key") from None


class Authenticator:
    def __init__(
        self,
        *,
        api_keys: KeyRing | None,
        signing: tokens.SigningKeys,
        token_issuer: str,
        token_audience: str,
        issuers: Sequence[OidcIssuer],
        clients: ClientRegistry,
    ) -> None:
        self._api_keys = api_keys
        self.signing = signing
        self.token_issuer = token_issuer
        self.token_audience = token_audience
        self._clients = clients
        self._own = OidcIssuer(
            issuer=token_issuer, audience=token_audience, jwks=signing.jwks(), algorithms=[tokens.ALGORITHM]
        )
        self._own_keys = jwt.PyJWKSet.from_dict(signing.jwks())
        self._issuers = {i.issuer: (i, _IssuerKeys(i)) for i in issuers}
        self._verified: dict[str, tuple[float, OidcIssuer, dict[str, Any]]] = {}

    async def authenticate(self, credential: str) -> Principal:
        if not tokens.looks_like_jwt(credential):
            principal = self._api_keys.authenticate(credential) if self._api_keys else None
            if principal is None:
                raise TokenRejected("the API key is not valid" if self._api_keys else "send a bearer token")
            return principal
        now = clock.now()
        verified = self._verified.get(credential)
        if verified is not None and verified[0] > clock.monotonic():
            _, config, claims = verified
            oidc.check_times(claims, now.timestamp(), config.leeway_s)
        else:
            config, claims = await self._verify(credential, now)
            self._remember(credential, config, claims)
        if config is self._own:
            return await self._client(claims)
        return oidc.person(claims, config)

    async def _verify(self, token: str, now: datetime) -> tuple[OidcIssuer, dict[str, Any]]:
        """Signature, issuer, audience and times: the issuer that verified the token and its claims."""
        issuer = tokens.unverified_issuer(token)
        if issuer == self.token_issuer:
            try:
                kid = jwt.get_unverified_header(token).get("kid")
                key = self._own_keys[str(kid)].key
            except (KeyError, jwt.PyJWTError):
                raise TokenRejected("the token is signed with an unknown key") from None
            return self._own, oidc.verify(token, self._own, key, now=now)
        trusted = self._issuers.get(issuer or "")
        if trusted is None:
            raise TokenRejected("the token's issuer is not trusted")
        config, source = trusted
        return config, oidc.verify(token, config, await source.key_for(token), now=now)

    def _remember(self, token: str, config: OidcIssuer, claims: dict[str, Any]) -> None:
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]  # the oldest entry
        self._verified[token] = (clock.monotonic() + VERIFIED_CACHE_S, config, claims)

    async def _client(self, claims: dict[str, Any]) -> Principal:
        client_id, scope = claims.get("client_id"), claims.get("scope")
        if claims.get("token_use") != CLIENT_TOKEN_USE or not isinstance(client_id, str) or scope not in set(Role):
            raise TokenRejected("the token is not a client-credentials token")
        # Every request, cache hit or not: a disabled client stops within the registry's cache (1 s).
        record = await self._clients.active(client_id)
        if record is None or Role(scope) not in record.scopes:
            raise TokenRejected("the client is disabled or no longer holds this scope")
        return Principal(
            actor=client_id,
            role=Role(scope),
            kind=PrincipalKind.CLIENT,
            client_id=client_id,
            rate_limit_per_minute=record.rate_limit_per_minute,
        )
