"""Short-lived service tokens: how one service proves to another that it is a platform service.

Every internal HTTP call carries `Authorization: Bearer <jwt>`, a JWT signed with HS256 under the
platform's shared secret (`PROMETEO_SERVICE_TOKEN_KEY`, a Helm Secret / compose variable). Claims:
`iss` = the calling service, `aud` = the service called, `iat`/`exp` a minute apart. The called service
(`prometeo.web.service_auth`) refuses anything else with `401` problem+json.

Times are judged on the `prometeo.clock` seam, not PyJWT's own wall-clock read (like the gateway's
OIDC check), so a pinned or shifted test clock issues and verifies consistently.

Rotation: set the new key as `PROMETEO_SERVICE_TOKEN_KEY` and the old one as
`PROMETEO_SERVICE_TOKEN_PREVIOUS_KEY` everywhere, roll out, then drop the previous key. Tokens are signed
with the current key and verified against both.

Callers never build tokens by hand: `internal_client()` / `internal_async_client()` return httpx clients
whose auth hook attaches a fresh token for whichever service a request goes to.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import jwt

from prometeo import clock

if TYPE_CHECKING:
    from prometeo.settings import SharedSettings

ALGORITHM = "HS256"
DEFAULT_TTL_S = 60
# A token living longer than this is refused whatever its exp says: service tokens are short-lived.
MAX_LIFETIME_S = 300
# Clock skew allowed between the caller's node and the callee's (iat ahead, exp behind).
LEEWAY_S = 30
MIN_KEY_BYTES = 32


class InvalidServiceToken(Exception):
    """The token is missing, malformed, badly signed, expired or meant for another service."""


@dataclass(frozen=True)
class ServiceKeys:
    """The current signing key and, during a rotation, the previous one (verify only)."""

    current: str
    previous: str | None = None

    def __post_init__(self) -> None:
        for key in (self.current, self.previous):
            if key is not None and len(key.encode()) < MIN_KEY_BYTES:
                raise ValueError(f"service token keys must be at least {MIN_KEY_BYTES} bytes")

    @property
    def verifying(self) -> Sequence[str]:
        return [self.current] if self.previous is None else [self.current, self.previous]

    @classmethod
    def from_settings(cls, settings: SharedSettings) -> ServiceKeys:
        """From a `SharedSettings` (any service's settings)."""
        previous = settings.service_token_previous_key
        return cls(
            settings.service_token_key.get_secret_value(),
            previous.get_secret_value() if previous is not None else None,
        )


def issue(keys: ServiceKeys, *, issuer: str, audience: str, ttl_s: int = DEFAULT_TTL_S) -> str:
    at = int(clock.timestamp())
    claims = {"iss": issuer, "sub": issuer, "aud": audience, "iat": at, "exp": at + ttl_s, "jti": uuid.uuid4().hex}
    return jwt.encode(claims, keys.current, algorithm=ALGORITHM)


def verify(keys: ServiceKeys, token: str, *, audience: str) -> dict[str, Any]:
    """The token's claims when it is valid for `audience` now (on the clock seam); else InvalidServiceToken."""
    claims: dict[str, Any] | None = None
    for key in keys.verifying:
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=audience,
                options={
                    "require": ["iss", "aud", "iat", "exp"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
            break
        except jwt.InvalidSignatureError:
            continue
        except jwt.InvalidAudienceError as exc:
            raise InvalidServiceToken("token is meant for another service") from exc
        except jwt.PyJWTError as exc:
            raise InvalidServiceToken(f"malformed token ({type(exc).__name__})") from exc
    if claims is None:
        raise InvalidServiceToken("bad signature")
    check_claims(claims)
    return claims


def check_claims(claims: dict[str, Any]) -> None:
    """The time and issuer checks of `verify`, on claims whose signature and audience were verified: judged on
    every request, also when a verified token's signature check is reused."""
    at = clock.timestamp()
    exp, iat = claims["exp"], claims["iat"]
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise InvalidServiceToken("exp and iat must be numbers")
    if at > exp + LEEWAY_S:
        raise InvalidServiceToken("token expired")
    if iat > at + LEEWAY_S:
        raise InvalidServiceToken("token issued in the future")
    if exp - iat > MAX_LIFETIME_S:
        raise InvalidServiceToken(f"token lives longer than {MAX_LIFETIME_S} s")
    if not isinstance(claims["iss"], str) or not claims["iss"]:
        raise InvalidServiceToken("iss must name the calling service")


def _base(url: str | httpx.URL) -> str:
    parts = urlsplit(str(url))
    return f"{parts.scheme}://{parts.netloc}".lower() + parts.path.rstrip("/")


@dataclass
class ServiceTokenAuth(httpx.Auth):
    """httpx auth hook: a token for the service a request goes to, cached until shortly before it expires.

    `audiences` maps a service's base URL to its name (the longest base URL a request's URL starts with
    wins); `audience` is the one service a single-purpose client talks to. A request to any other URL is
    sent without a token (a caller's mistake shows as a 401, never as a token handed to a stranger)."""

    keys: ServiceKeys
    issuer: str
    audiences: Mapping[str, str] = field(default_factory=dict)
    audience: str | None = None
    ttl_s: int = DEFAULT_TTL_S
    _cache: dict[str, tuple[str, float, float]] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        by_base = {_base(url): name for url, name in self.audiences.items()}
        self._bases = sorted(by_base.items(), key=lambda item: len(item[0]), reverse=True)

    def audience_for(self, url: str | httpx.URL) -> str | None:
        target = _base(url)
        for base, name in self._bases:
            if target == base or target.startswith(base + "/"):
                return name
        return self.audience

    def audience_under(self, base_url: str) -> tuple[bool, str | None]:
        """(True, the audience) when every URL below `base_url` (base_url + "/…") has the same audience as
        `audience_for` would find for it: no configured base URL lies below this one. A caller joining base
        URLs and paths can then skip the per-URL match; (False, None) when it cannot."""
        root = _base(base_url)
        if any(base.startswith(root + "/") for base, _ in self._bases):
            return False, None
        return True, self.audience_for(root + "/")

    def token_for(self, audience: str) -> str:
        at = clock.timestamp()
        with self._lock:
            cached = self._cache.get(audience)
            # Reused while it has a quarter of its life left — and not if the clock went back past its iat
            # (a test pinning the seam to an earlier hour): it would be "issued in the future".
            if cached is not None and cached[1] - 1 <= at and cached[2] - at > self.ttl_s / 4:
                return cached[0]
            token = issue(self.keys, issuer=self.issuer, audience=audience, ttl_s=self.ttl_s)
            self._cache[audience] = (token, at, at + self.ttl_s)
            return token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        audience = self.audience_for(request.url)
        if audience is not None:
            request.headers["Authorization"] = f"Bearer {self.token_for(audience)}"
        yield request


def service_auth(
    settings: SharedSettings, issuer: str, audiences: Mapping[str, str] | None = None, audience: str | None = None
) -> ServiceTokenAuth:
    """The auth hook for calls from `issuer`, keyed from a service's settings."""
    return ServiceTokenAuth(
        ServiceKeys.from_settings(settings),
        issuer,
        dict(audiences or {}),
        audience,
        ttl_s=settings.service_token_ttl_s,
    )


def internal_client(
    settings: SharedSettings,
    issuer: str,
    *,
    audiences: Mapping[str, str] | None = None,
    audience: str | None = None,
    **kwargs: Any,
) -> httpx.Client:
    """A sync httpx client whose requests to the given services carry a service token."""
    return httpx.Client(auth=service_auth(settings, issuer, audiences, audience), **kwargs)


def internal_async_client(
    settings: SharedSettings,
    issuer: str,
    *,
    audiences: Mapping[str, str] | None = None,
    audience: str | None = None,
    **kwargs: Any,
) -> httpx.AsyncClient:
    """An async httpx client whose requests to the given services carry a service token."""
    return httpx.AsyncClient(auth=service_auth(settings, issuer, audiences, audience), **kwargs)
