"""The console's only way to the platform: the public gateway, with the signed-in person's token.

Problems the gateway answers become exceptions the pages turn into screens: 401 → sign in again,
403 → not allowed, 404 → not found (the same for "not yours"), anything else → unavailable.
"""

from __future__ import annotations

from typing import Any

import httpx


class GatewayError(Exception):
    def __init__(self, status: int, title: str, detail: str | None = None) -> None:
        super().__init__(f"{status} {title}")
        self.status = status
        self.title = title
        self.detail = detail


class SessionExpired(GatewayError):
    """The token is missing, expired or refused: the person signs in again."""


class SignInRefused(GatewayError):
    """Wrong username or password."""


def _problem(response: httpx.Response) -> GatewayError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    title = str(body.get("title") or response.reason_phrase or "error")
    detail = body.get("detail")
    if response.status_code == 401:
        return SessionExpired(401, title, detail)
    return GatewayError(response.status_code, title, str(detail) if detail else None)


class Gateway:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def sign_in(self, username: str, password: str) -> str:
        """An access token from the gateway's OIDC issuer (password grant)."""
        form = {"grant_type": "password", "username": username, "password": password, "client_id": "console"}
        response = await self._send("POST", "/oidc/token", data=form)
        if response.status_code == 400:
            raise SignInRefused(400, "invalid_grant")
        if response.status_code != 200:
            raise _problem(response)
        return str(response.json()["access_token"])

    async def get(self, token: str, path: str, params: dict[str, Any] | None = None) -> Any:
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        return await self._json("GET", path, token, params=clean)

    async def post(self, token: str, path: str, body: Any = None) -> Any:
        return await self._json("POST", path, token, json=body)

    async def _json(self, method: str, path: str, token: str, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}", "X-Purpose": "customer_service"}
        response = await self._send(method, path, headers=headers, **kw)
        if response.status_code >= 400:
            raise _problem(response)
        return response.json() if response.content else None

    async def _send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            return await self._client.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise GatewayError(503, "Gateway unavailable", type(exc).__name__) from exc
