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

from prometeo.telemetry.metrics import HTTP_REQUESTS, HTTP_SECONDS
from prometeo.web.problems import install_problem_handlers, problem_response

# Bodies larger than this are refused (413) before any route reads them; routes may bound lower.
MAX_BODY_BYTES = 16 * 1024 * 1024

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


def build_app(
    *,
    service: str,
    title: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    routers: Sequence[APIRouter],
    checks: dict[str, ReadinessCheck],
    version: str = "0.1.0",
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    app = FastAPI(title=title, version=version, lifespan=lifespan)
    install_problem_handlers(app)
    app.include_router(health_router(checks))
    for router in routers:
        app.include_router(router)

    @app.middleware("http")
    async def _measure(request: Request, call_next: Callable[[Request], Any]) -> Response:
        started = time.perf_counter()
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_body_bytes:
            return problem_response(413, "Payload too large", f"body exceeds {max_body_bytes} bytes")
        response: Response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        HTTP_SECONDS.labels(service, path, request.method).observe(time.perf_counter() - started)
        HTTP_REQUESTS.labels(service, path, request.method, str(response.status_code)).inc()
        return response

    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics")
    return app
