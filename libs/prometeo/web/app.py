"""The common app skeleton: /healthz, /readyz, /metrics, problem+json, request metrics and traces."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from prometeo.telemetry.metrics import HTTP_REQUESTS, HTTP_SECONDS
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
        # Added before _measure, so it runs inside it: refused calls are counted too.
        app.add_middleware(ServiceTokenMiddleware, service=service, owner=app)
        _extend_openapi(app, document_service_token)

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


def _extend_openapi(app: FastAPI, extend: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Run `extend` once over the generated schema (chained: each call wraps the previous generator)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = extend(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
