"""RFC 9457 problem details for every HTTP error.

One handler per failure kind, shared by every service: a dependency that is down (Redis, the broker
not acknowledging in bounded time) is 503 + Retry-After; a body nested too deeply to parse is 422;
anything else unexpected is a 500 problem (never a text/plain traceback page).
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from kafka.errors import KafkaError
from starlette.exceptions import HTTPException as StarletteHTTPException

from prometeo.bus.producer import BrokerUnavailable

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
DEPENDENCY_RETRY_AFTER_S = "5"


class Problem(Exception):
    """Raise from a route to answer with a problem-detail body."""

    def __init__(self, status: int, title: str, detail: str | None = None, **extra: Any) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.detail = detail
        self.extra = extra


def problem_response(status: int, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    headers = extra.pop("headers", None)
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.title, exc.detail, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"], "type": e["type"]} for e in exc.errors()
        ]
        return problem_response(422, "Request validation failed", f"{len(errors)} invalid field(s)", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(exc.status_code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(redis.RedisError)
    async def _redis(request: Request, exc: redis.RedisError) -> JSONResponse:
        log.error("redis unavailable", extra={"path": request.url.path, "error": type(exc).__name__})
        return _unavailable("Store unavailable", "the service's store cannot be reached; retry later")

    @app.exception_handler(BrokerUnavailable)
    async def _broker(request: Request, exc: BrokerUnavailable) -> JSONResponse:
        log.error("broker did not acknowledge", extra={"path": request.url.path, "detail": str(exc)})
        return _unavailable("Broker unavailable", f"{exc}; nothing of this request was acknowledged, retry later")

    @app.exception_handler(KafkaError)
    async def _kafka(request: Request, exc: KafkaError) -> JSONResponse:
        log.error("broker error", extra={"path": request.url.path, "error": type(exc).__name__})
        return _unavailable("Broker unavailable", "the event broker did not answer in time; retry later")

    @app.exception_handler(RecursionError)
    async def _too_deep(_: Request, exc: RecursionError) -> JSONResponse:
        return problem_response(422, "Request validation failed", "body nested too deeply")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", extra={"path": request.url.path, "error": type(exc).__name__}, exc_info=exc)
        return problem_response(500, "Internal error", "the request could not be completed")


def _unavailable(title: str, detail: str) -> JSONResponse:
    return problem_response(503, title, detail, headers={"Retry-After": DEPENDENCY_RETRY_AFTER_S})
