"""The common app skeleton: /healthz, /readyz, /metrics, problem+json, request metrics and traces."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prometeo.telemetry.metrics import HTTP_REQUESTS, HTTP_SECONDS
from prometeo.web.problems import install_problem_handlers

# A readiness check answers (ok, detail). Checks read state from app.state, so they take the app.
ReadinessCheck = Callable[[FastAPI], tuple[bool, str]]


def health_router(checks: dict[str, ReadinessCheck]) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @router.get("/readyz")
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

    @router.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


class RequestMetrics:
    """Request count and duration per route template, as pure ASGI middleware: Starlette's
    `BaseHTTPMiddleware` (`@app.middleware("http")`) adds a task group and memory streams per request."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

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
            await self.app(scope, receive, send_and_note)
        finally:
            # The router records the matched route in the scope.
            path = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            HTTP_SECONDS.labels(self.service, path, method).observe(time.perf_counter() - started)
            HTTP_REQUESTS.labels(self.service, path, method, str(status)).inc()


def build_app(
    *,
    service: str,
    title: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    routers: Sequence[APIRouter],
    checks: dict[str, ReadinessCheck],
    version: str = "0.1.0",
) -> FastAPI:
    app = FastAPI(title=title, version=version, lifespan=lifespan)
    install_problem_handlers(app)
    app.include_router(health_router(checks))
    for router in routers:
        app.include_router(router)

    app.add_middleware(RequestMetrics, service=service)
    # One server span per request; the per-message "http send/receive" child spans cost CPU and say nothing.
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics", exclude_spans=["receive", "send"])
    return app
