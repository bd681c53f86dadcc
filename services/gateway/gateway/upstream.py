"""Calls to the internal services: one keep-alive transport, each call's head written by `gateway.hop`
(service token, trace context, the client's headers and timeouts); the httpx client probes /healthz.

Upstream 4xx problems reach the caller unchanged (they describe the caller's request); anything
else that goes wrong upstream becomes a gateway problem: unreachable → 502, too slow → 504,
503 → 503 with the upstream's Retry-After (a dependency is down: the caller should retry, e.g. ingest's
broker not acknowledging), other 5xx → 502 without the upstream's body (internal details stay inside).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response

from gateway.domain.scope import NOT_FOUND
from gateway.hop import Hop
from prometeo.telemetry.metrics import GATEWAY_UPSTREAM_REQUESTS, child
from prometeo.web import Problem
from prometeo.web.problems import PROBLEM_JSON, problem_response

log = logging.getLogger(__name__)


class Upstream(StrEnum):
    INGEST = "ingest-openfinance"
    FEATURE_STORE = "feature-store"
    SCORING = "scoring"
    NEXT_BEST_ACTION = "next-best-action"
    CAMPAIGNS = "campaigns"


class UpstreamRejected(Exception):
    """An upstream answered 4xx: pass its answer through to the caller."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"upstream answered {response.status_code}")
        self.response = response


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("application/json", PROBLEM_JSON) or media.endswith("+json")


async def upstream_rejected_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, UpstreamRejected)
    upstream = exc.response
    if upstream.status_code == 404 and getattr(request.state, "scoped", False):
        # Same body as an out-of-scope customer (deps.customer_not_found): scope cannot be probed.
        return problem_response(*NOT_FOUND)
    content_type = upstream.headers.get("content-type", "")
    if not _is_json(content_type):
        return problem_response(upstream.status_code, upstream.reason_phrase or "Upstream rejected the request")
    headers = {k: v for k, v in upstream.headers.items() if k.lower() == "retry-after"}
    return Response(upstream.content, status_code=upstream.status_code, media_type=content_type, headers=headers)


def install_upstream_handlers(app: FastAPI) -> None:
    app.add_exception_handler(UpstreamRejected, upstream_rejected_handler)


class Upstreams:
    """Base URLs by service name; calls go through `transport` with `client`'s headers, timeouts and service
    tokens (gateway.hop), the health probes through `client` itself."""

    def __init__(
        self, client: httpx.AsyncClient, base_urls: dict[Upstream, str], *, transport: httpx.AsyncBaseTransport
    ) -> None:
        self.client = client
        self._hop = Hop(client, transport)
        self._base = {name: url.rstrip("/") for name, url in base_urls.items()}

    async def call(
        self,
        upstream: Upstream,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        try:
            response = await self._hop.send(
                method, self._base[upstream], path, params=params, json=json, content=content, headers=headers
            )
        except httpx.TimeoutException as exc:
            child(GATEWAY_UPSTREAM_REQUESTS, upstream.value, "timeout").inc()
            raise Problem(504, "Upstream timed out", f"{upstream.value} did not answer in time") from exc
        except httpx.TransportError as exc:
            child(GATEWAY_UPSTREAM_REQUESTS, upstream.value, "unreachable").inc()
            raise Problem(502, "Upstream unavailable", f"{upstream.value} is unreachable") from exc
        if 400 <= response.status_code < 500:
            child(GATEWAY_UPSTREAM_REQUESTS, upstream.value, "rejected").inc()
            raise UpstreamRejected(response)
        if response.status_code == 503:
            child(GATEWAY_UPSTREAM_REQUESTS, upstream.value, "unavailable").inc()
            retry_after = response.headers.get("retry-after", "")
            raise Problem(
                503,
                "Upstream unavailable",
                f"{upstream.value} cannot complete the request now; retry later",
                headers={"Retry-After": retry_after if retry_after.isdigit() else "5"},
            )
        if response.status_code >= 500:
            child(GATEWAY_UPSTREAM_REQUESTS, upstream.value, "failed").inc()
            log.warning("upstream failed", extra={"upstream": upstream.value, "status": response.status_code})
            raise Problem(502, "Upstream failed", f"{upstream.value} answered {response.status_code}")
        child(GATEWAY_UPSTREAM_REQUESTS, upstream.value, "ok").inc()
        return response

    def health_url(self, upstream: Upstream) -> str:
        return self._base[upstream] + "/healthz"


@dataclass
class UpstreamHealth:
    """Latest /healthz result per upstream, refreshed by a background task; informational only."""

    upstreams: Upstreams
    interval_s: float
    status: dict[str, str] = field(default_factory=dict)

    async def probe_once(self) -> None:
        for name in Upstream:
            try:
                response = await self.upstreams.client.get(self.upstreams.health_url(name), timeout=1.0)
                self.status[name.value] = "ok" if response.status_code == 200 else f"http {response.status_code}"
            except httpx.HTTPError as exc:
                self.status[name.value] = f"down ({type(exc).__name__})"

    async def run(self) -> None:
        while True:
            await self.probe_once()
            await asyncio.sleep(self.interval_s)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[UpstreamHealth]:
        task = asyncio.create_task(self.run(), name="upstream-health")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def summary(self) -> str:
        if not self.status:
            return "not probed yet"
        return ", ".join(f"{name}: {state}" for name, state in sorted(self.status.items()))
