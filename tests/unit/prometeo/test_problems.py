"""Every error is a problem: the shared handlers answer dependency failures 503 + Retry-After, a body
nested too deeply 422, an oversized body 413, and anything unexpected a 500 problem (never text/plain)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import redis
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient
from kafka.errors import KafkaTimeoutError

from prometeo.bus.producer import BrokerUnavailable
from prometeo.web import build_app

router = APIRouter()


@router.get("/redis-down")
def redis_down() -> None:
    raise redis.ConnectionError("Connection refused")


@router.get("/kafka-timeout")
def kafka_timeout() -> None:
    raise KafkaTimeoutError("Failed to update metadata after 60.0 secs.")


@router.get("/not-acknowledged")
def not_acknowledged() -> None:
    raise BrokerUnavailable("3 event(s) to account-events.v1 not acknowledged by the broker", 3)


@router.get("/bug")
def bug() -> None:
    raise ZeroDivisionError("division by zero")


@router.post("/echo")
async def echo(request: Request) -> Any:
    return json.loads(await request.body())


@asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    yield


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = build_app(
        service="t", title="t", lifespan=_lifespan, routers=[router], checks={}, max_body_bytes=1024, internal=False
    )
    return TestClient(app, raise_server_exceptions=False)


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


@pytest.mark.parametrize("path", ["/redis-down", "/kafka-timeout", "/not-acknowledged"])
def test_a_dependency_down_is_503_with_retry_after(client: TestClient, path: str) -> None:
    response = client.get(path)
    _problem(response, 503)
    assert int(response.headers["retry-after"]) > 0


def test_an_unexpected_error_is_a_500_problem_without_internals(client: TestClient) -> None:
    body = _problem(client.get("/bug"), 500)
    assert "division" not in json.dumps(body)


def test_a_body_nested_too_deeply_is_422(client: TestClient) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    big = TestClient(
        build_app(service="t", title="t", lifespan=_lifespan, routers=[router], checks={}, internal=False),
        raise_server_exceptions=False,
    )
    _problem(big.post("/echo", content=deep, headers={"content-type": "application/json"}), 422)


def test_a_body_over_the_limit_is_413(client: TestClient) -> None:
    _problem(
        client.post("/echo", content=b"[" + b"1," * 1000 + b"1]", headers={"content-type": "application/json"}), 413
    )
