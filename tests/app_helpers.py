"""A service app running in-process against the test's real servers: its settings from `env`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Protocol

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from starlette.datastructures import State

from prometeo.service_tokens import ServiceTokenAuth, service_auth
from prometeo.settings import SharedSettings
from tests.bus_helpers import wait_until

TEST_CALLER = "tests"


class CachedSettings(Protocol):
    """A service's `get_settings`: the lru_cache'd Settings factory."""

    def __call__(self) -> Any: ...

    def cache_clear(self) -> None: ...


def app_state(client: TestClient) -> State:
    """The `app.state` of the app a client runs (TestClient types its app as any ASGI callable)."""
    assert isinstance(client.app, FastAPI)
    return client.app.state


def caller_auth(audience: str) -> ServiceTokenAuth:
    """What an internal caller attaches: service tokens for `audience`, keyed from the environment's settings."""
    return service_auth(SharedSettings(), TEST_CALLER, audience=audience)


def service_client(app: FastAPI, **kwargs: Any) -> TestClient:
    """A TestClient that calls `app` the way a platform service does: with a service token for it (an internal
    app refuses anything else). Build it after the test's environment is set: the key is read then."""
    client = TestClient(app, **kwargs)
    client.auth = caller_auth(app.state.service_name)
    return client


@contextlib.contextmanager
def running_app(app: FastAPI, get_settings: CachedSettings, env: dict[str, str]) -> Iterator[TestClient]:
    """Started (lifespan run, /readyz green) with `env` set; settings re-read before and after."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        get_settings.cache_clear()
        try:
            with service_client(app) as client:
                wait_until(lambda: client.get("/readyz").status_code == 200, timeout=30)  # scaled
                yield client
        finally:
            get_settings.cache_clear()


def handled(group: str, topic: str) -> float:
    """Records of `topic` an in-process consumer group has finished with (its handler returned, whether
    it acted or ignored the record): the positive signal that an event which changes nothing has been
    seen, instead of sleeping and hoping."""
    labels = {"group": group, "topic": topic, "outcome": "processed"}
    return REGISTRY.get_sample_value("prometeo_consumer_messages_total", labels) or 0.0
