"""Edge concerns applied to every response: quota headers, and no raw customer ids in traces."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from urllib.parse import unquote

from fastapi import Request, Response
from opentelemetry import trace

from gateway.domain.quota import Quota

_CUSTOMER_SEGMENT = re.compile(r"^/v1/customers/([^/]+)")
PLACEHOLDER = "{customer_id}"

Next = Callable[[Request], Awaitable[Response]]


async def quota_headers(request: Request, call_next: Next) -> Response:
    """Every answer to a counted request tells the client its quota (also errors from upstreams)."""
    response = await call_next(request)
    quota: Quota | None = getattr(request.state, "quota", None)
    if quota is not None and quota.limit > 0:
        for name, value in quota.headers().items():
            response.headers[name] = value
    return response


async def scrub_customer_ids(request: Request, call_next: Next) -> Response:
    """The server span records the request path; a bank id (CPF) in it must not reach the trace backend."""
    raw_path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
    match = _CUSTOMER_SEGMENT.match(raw_path)
    if match and not match.group(1).startswith("ck_"):
        _redact_span(trace.get_current_span(), {match.group(1), unquote(match.group(1))})
    return await call_next(request)


def _redact_span(span: trace.Span, secrets: set[str]) -> None:
    attributes = getattr(span, "attributes", None)
    if not span.is_recording() or not attributes:
        return
    for name, value in dict(attributes).items():
        if isinstance(value, str) and any(s in value for s in secrets):
            for secret in secrets:
                value = value.replace(secret, PLACEHOLDER)
            span.set_attribute(name, value)
