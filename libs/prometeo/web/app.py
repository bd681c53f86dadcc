"""The common app skeleton: /healthz, /readyz, /metrics, problem+json, request metrics and traces."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prometeo.telemetry.metrics import HTTP_REQUESTS, HTTP_SECONDS, child
from prometeo.telemetry.tracing import exporting
from prometeo.web.openapi import document_problems
from prometeo.web.problems import install_problem_handlers, problem_response
from prometeo.web.service_auth import ServiceTokenMiddleware, document_service_token, load_keys

# Bodies larger than this are refused (413) before any route reads them; routes may bound lower.
MAX_BODY_BYTES = 16 * 1024 * 1024

# A readiness check answers (ok, detail). Checks read state from app.state, so they take the app.
ReadinessCheck = Callable[[FastAPI], tuple[bool, str]]


# The probes' answers are not problems: readiness is its checks' report either way (200 or 503).
_READINESS_SCHEMA = {
    "type": "object",
    "required": ["ready", "checks"],
    "properties": {
        "ready": {"type": "boolean"},
        "checks": {"type": "object", "additionalProperties": {"type": "object"}},
    },
}
READINESS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Ready", "content": {"application/json": {"schema": _READINESS_SCHEMA}}},
    503: {
        "description": "Not ready: the failing checks",
        "content": {"application/json": {"schema": _READINESS_SCHEMA}},
    },
}
METRICS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Prometheus exposition",
        "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
    },
}


def health_router(checks: dict[str, ReadinessCheck]) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @router.get("/readyz", responses=READINESS_RESPONSES)
    def readyz(request: Request) -> JSONResponse:
        results: dict[str, dict[str, Any]] = {}
        for name, check in checks.items():
            try:
                ok, detail = check(request.app)
            except Exception as exc:
                ok, detail = False, f"{type(exc).__name__}: {exc}"
            results[name] = {"ok": ok, "detail": detail}
        ready = all(r["ok"] for r in results.values())
        return JSONResponse({"ready": ready, "checks": results}, status_code=200 if ready else 503)

    @router.get("/metrics", response_class=Response, responses=METRICS_RESPONSES)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


class RequestMetrics:
    """Request count and duration per route template, as pure ASGI middleware: Starlette's
    `BaseHTTPMiddleware` (`@app.middleware("http")`) adds a task group and memory streams per request."""

    def __init__(self, app: ASGIApp, service: str, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.service = service
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees when the app raises before answering

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            declared = dict(scope["headers"]).get(b"content-length", b"")
            if declared.isdigit() and int(declared) > self.max_body_bytes:
                detail = f"body exceeds {self.max_body_bytes} bytes"
                await problem_response(413, "Payload too large", detail)(scope, receive, send_and_note)
            else:
                await self.app(scope, receive, send_and_note)
        finally:
            # The router records the matched route in the scope.
            path = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            child(HTTP_SECONDS, self.service, path, method).observe(time.perf_counter() - started)
            child(HTTP_REQUESTS, self.service, path, method, str(status)).inc()


def build_app(
    *,
    service: str,
    title: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    routers: Sequence[APIRouter],
    checks: dict[str, ReadinessCheck],
    version: str = "0.1.0",
    max_body_bytes: int = MAX_BODY_BYTES,
    internal: bool = True,
) -> FastAPI:
    """`internal`: every route but the probes and /metrics requires a service token (prometeo.web.service_auth);
    only the public edge (the gateway, the console) passes False and authenticates its callers itself."""

    @asynccontextmanager
    async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
        if internal:
            load_keys(app)
        async with lifespan(app):
            yield

    app = FastAPI(title=title, version=version, lifespan=_lifespan)
    app.state.service_name = service
    install_problem_handlers(app)
    app.include_router(health_router(checks))
    for router in routers:
        app.include_router(router)

    _extend_openapi(app, document_problems)
    if internal:
        # Added before RequestMetrics, so it runs inside it: refused calls are counted too.
        app.add_middleware(ServiceTokenMiddleware, service=service, owner=app)
        _extend_openapi(app, document_service_token)

    app.add_middleware(RequestMetrics, service=service, max_body_bytes=max_body_bytes)
    # One server span per request; the per-message "http send/receive" child spans cost CPU and say nothing.
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics", exclude_spans=["receive", "send"])
    _trace_while_exporting(app)
    return app


class TraceWhileExporting:
    """The server span only while spans are exported. Otherwise the instrumentation's middleware is skipped:
    it matched the request against every route again to name a span nobody records (~7 % of the gateway's
    CPU per request); only the caller's trace context is made current, so the trace id still travels on to
    the upstream calls and the events this request publishes."""

    _PROPAGATED = frozenset({b"traceparent", b"tracestate", b"baggage"})

    def __init__(self, traced: ASGIApp, untraced: ASGIApp) -> None:
        # `app`: FastAPI's own telemetry walks the stack's `.app` chain for the instrumentation's middleware
        # and, finding it, makes no second server span of its own.
        self.app = self.traced = traced
        self.untraced = untraced

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or exporting():
            await self.traced(scope, receive, send)
            return
        carrier = {k.decode(): v.decode("latin-1") for k, v in scope["headers"] if k in self._PROPAGATED}
        if not carrier:
            await self.untraced(scope, receive, send)
            return
        token = otel_context.attach(propagate.extract(carrier))
        try:
            await self.untraced(scope, receive, send)
        finally:
            otel_context.detach(token)


def _trace_while_exporting(app: FastAPI) -> None:
    """Puts `TraceWhileExporting` around the instrumentation's middleware in the stack it builds
    (ServerErrorMiddleware → OpenTelemetryMiddleware → the app's own stack)."""
    build = app.build_middleware_stack

    def build_middleware_stack() -> ASGIApp:
        outer = build()
        otel = getattr(outer, "app", None)
        if isinstance(otel, OpenTelemetryMiddleware):  # else: the instrumentation changed shape, keep it as is
            outer.app = TraceWhileExporting(otel, otel.app)  # type: ignore[attr-defined]
        return outer

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]


def _extend_openapi(app: FastAPI, extend: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Run `extend` once over the generated schema (chained: each call wraps the previous generator)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = extend(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
