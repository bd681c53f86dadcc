"""Runs the assistant's calls through the gateway's own public API with the asking person's credentials, so
authentication, rate limits, role, scope, the insider guard, field visibility and audit apply unchanged.

By default the calls go through the running app in-process (its full ASGI stack, middleware included); with
`assistant_self_url` set they go over HTTP to that base URL (the loopback of a replica, or its service name)."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from gateway.assistant.domain.tools import ToolCall, ToolResult

FORWARDED_HEADERS = ("authorization", "x-api-key", "x-purpose")


class GatewayTools:
    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self._client = client
        self._headers = headers

    async def run(self, call: ToolCall) -> ToolResult:
        try:
            response = await self._client.request(
                call.spec.method, call.path, params=call.params, headers=self._headers
            )
        except httpx.HTTPError:
            return ToolResult(call, 503, None)
        try:
            body = response.json()
        except ValueError:
            body = None
        return ToolResult(call, response.status_code, body)

    async def run_all(self, calls: list[ToolCall]) -> list[ToolResult]:
        return list(await asyncio.gather(*(self.run(c) for c in calls)))


def self_client(app: FastAPI, self_url: str | None, timeout_s: float) -> httpx.AsyncClient:
    if self_url:
        return httpx.AsyncClient(base_url=self_url.rstrip("/"), timeout=timeout_s)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.internal", timeout=timeout_s
    )


def forwarded(headers: dict[str, str]) -> dict[str, str]:
    """The caller's own credentials and purpose, and nothing else."""
    return {k: v for k, v in headers.items() if k.lower() in FORWARDED_HEADERS}
