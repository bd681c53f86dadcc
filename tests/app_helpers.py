"""A service app running in-process against the test's real servers: its settings from `env`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.bus_helpers import wait_until


@contextlib.contextmanager
def running_app(app: FastAPI, get_settings: Callable[[], Any], env: dict[str, str]) -> Iterator[TestClient]:
    """Started (lifespan run, /readyz green) with `env` set; settings re-read before and after."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        get_settings.cache_clear()  # type: ignore[attr-defined]
        try:
            with TestClient(app) as client:
                wait_until(lambda: client.get("/readyz").status_code == 200, timeout=30)
                yield client
        finally:
            get_settings.cache_clear()  # type: ignore[attr-defined]
