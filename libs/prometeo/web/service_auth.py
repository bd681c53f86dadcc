"""Every route of an internal service requires a service token (`prometeo.service_tokens`).

`build_app(..., internal=True)` (the default) installs `ServiceTokenMiddleware`: a request without
`Authorization: Bearer <token>` whose audience is this service, signed with the platform key and not
expired, is answered `401` problem+json with `WWW-Authenticate: Bearer`. Only the probes and the
scrape (`/healthz`, `/readyz`, `/metrics`) stay open — kubelet and Prometheus carry no token. A new
route is covered without doing anything; a new caller uses `prometeo.service_tokens.internal_client`.

The keys are read from the shared settings each time the app starts (its lifespan), so a test that
sets `PROMETEO_SERVICE_TOKEN_KEY` and restarts the app gets the new key.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from prometeo import clock
from prometeo.service_tokens import InvalidServiceToken, ServiceKeys, check_claims, verify
from prometeo.settings import SharedSettings
from prometeo.web.problems import PROBLEM_JSON

log = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
SECURITY_SCHEME = "serviceToken"
# A caller sends the same token for most of its minute of life: its signature is checked once (with the keys
# it was checked against), its times and issuer on every request. Bounded in size and age.
VERIFIED_CACHE_S = 30.0
VERIFIED_CACHE_SIZE = 1024


def load_keys(app: FastAPI) -> ServiceKeys:
    """Keys from the environment (shared settings), kept on app.state for the middleware."""
    keys = ServiceKeys.from_settings(SharedSettings())
    app.state.service_keys = keys
    return keys


def _refusal(detail: str) -> tuple[dict[str, Any], list[tuple[bytes, bytes]]]:
    body = {"type": "about:blank", "title": "Service token required", "status": 401, "detail": detail}
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"www-authenticate", b'Bearer error="invalid_token"'),
    ]
    return body, headers


class ServiceTokenMiddleware:
    """Pure ASGI (no body buffering): checks the bearer token before the app sees the request."""

    def __init__(self, app: ASGIApp, *, service: str, owner: FastAPI) -> None:
        self.app = app
        self.service = service
        self.owner = owner
        self._verified: dict[str, tuple[float, ServiceKeys, dict[str, Any]]] = {}

    def _keys(self) -> ServiceKeys:
        keys = getattr(self.owner.state, "service_keys", None)
        return keys if isinstance(keys, ServiceKeys) else load_keys(self.owner)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        authorization = ""
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            await self._refuse(send, "internal route: send Authorization: Bearer <service token>")
            return
        try:
            claims = self._verify(token.strip())
        except InvalidServiceToken as exc:
            log.warning("service token refused", extra={"path": scope["path"], "reason": str(exc)})
            await self._refuse(send, str(exc))
            return
        scope.setdefault("state", {})["caller"] = claims["iss"]
        await self.app(scope, receive, send)

    def _verify(self, token: str) -> dict[str, Any]:
        keys = self._keys()
        cached = self._verified.get(token)
        if cached is not None and cached[1] is keys and cached[0] > clock.monotonic():
            check_claims(cached[2])
            return cached[2]
        claims = verify(keys, token, audience=self.service)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]  # the oldest entry
        self._verified[token] = (clock.monotonic() + VERIFIED_CACHE_S, keys, claims)
        return claims

    async def _refuse(self, send: Send, detail: str) -> None:
        body, headers = _refusal(detail)
        payload = json.dumps(body).encode()
        headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def document_service_token(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI says what the middleware enforces: bearer service token on every operation but the probes."""
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})[SECURITY_SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "Service token (HS256; iss = calling service, aud = this service, exp ≤ 5 min).",
    }
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            operation["security"] = [] if path in OPEN_PATHS else [{SECURITY_SCHEME: []}]
            if path not in OPEN_PATHS:
                operation.setdefault("responses", {}).setdefault(
                    "401",
                    {
                        "description": "Missing, expired or wrong-audience service token",
                        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                    },
                )
    return schema
