"""Edge concerns applied to every response: quota headers, and no raw customer ids in traces.

Pure ASGI middleware: Starlette's `BaseHTTPMiddleware` (`app.middleware("http")`) runs every request
through an extra task group and memory streams, which cost a measurable share of the gateway's CPU
per request (see the README's request-path profile)."""

from __future__ import annotations

import re
from urllib.parse import unquote

from opentelemetry import trace
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.domain.quota import Quota

_CUSTOMER_SEGMENT = re.compile(r"^/v1/customers/([^/]+)")
PLACEHOLDER = "{customer_id}"


class QuotaHeaders:
    """Every answer to a counted request tells the client its quota (also errors from upstreams)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_quota(message: Message) -> None:
            if message["type"] == "http.response.start":
                # `request.state.quota`, set by the rate-limit dependency, lives in the scope's state.
                quota: Quota | None = scope.get("state", {}).get("quota")
                if quota is not None and quota.limit > 0:
                    headers = MutableHeaders(scope=message)
                    for name, value in quota.headers().items():
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_quota)


class ScrubCustomerIds:
    """The server span records the request path; a bank id (CPF) in it must not reach the trace backend."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw_path = scope.get("raw_path", b"").decode("latin-1") or scope.get("path", "")
            match = _CUSTOMER_SEGMENT.match(raw_path)
            if match and not match.group(1).startswith("ck_"):
                _redact_span(trace.get_current_span(), {match.group(1), unquote(match.group(1))})
        await self.app(scope, receive, send)


def _redact_span(span: trace.Span, secrets: set[str]) -> None:
    attributes = getattr(span, "attributes", None)
    if not span.is_recording() or not attributes:
        return
    for name, value in dict(attributes).items():
        if isinstance(value, str) and any(s in value for s in secrets):
            for secret in secrets:
                value = value.replace(secret, PLACEHOLDER)
            span.set_attribute(name, value)
