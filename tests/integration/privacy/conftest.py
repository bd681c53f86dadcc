"""The whole platform in one process for the data-subject rights tests: ingest, feature-store, scoring
(its export route only: no model is needed to answer it), next-best-action and campaigns on real HTTP
ports (the gateway calls them as it would in production), and the gateway itself, all on the session's
broker and Redis. Started once per module; each test uses its own customers."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from prometeo.privacy.client import internal_client
from tests.bus_helpers import scaled, wait_until
from tests.integration.next_best_action.conftest import policy_file  # noqa: F401 - the fixture, reused

PSEUDONYM_KEY = "privacy-integration-key"
ADMIN_KEY = "privacy-admin-key"
DAY_S = 1.0
# (service, package, whether its lifespan runs: scoring answers its export route without a model)
SERVICES = (
    ("ingest-openfinance", "ingest_openfinance", True),
    ("feature-store", "feature_store", True),
    ("scoring", "scoring", False),
    ("next-best-action", "next_best_action", True),
    ("campaigns", "campaigns", True),
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Platform:
    run: str
    urls: dict[str, str]
    clients: dict[str, httpx.Client]
    gateway: TestClient

    @property
    def ingest(self) -> httpx.Client:
        return self.clients["ingest-openfinance"]

    @property
    def campaigns(self) -> httpx.Client:
        return self.clients["campaigns"]

    def admin(self) -> dict[str, str]:
        return {"X-API-Key": ADMIN_KEY}

    def group(self, service: str) -> str:
        return f"{service}-privacy-{self.run}"


def _importer(module: str) -> tuple[FastAPI, Any]:
    main = __import__(f"{module}.main", fromlist=["app"])
    settings = __import__(f"{module}.settings", fromlist=["get_settings"])
    return main.app, settings.get_settings


@contextlib.contextmanager
def _served(app: FastAPI, port: int, lifespan: bool) -> Iterator[None]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on" if lifespan else "off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"svc-{port}", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, timeout=30, interval=0.05)
        yield
    finally:
        server.should_exit = True
        thread.join(scaled(10))


@pytest.fixture(scope="module")
def platform(
    broker: str,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    policy_file: Path,  # noqa: F811 - the next-best-action tests' policy (no quiet hours, no exploration)
) -> Iterator[Platform]:
    run = uuid.uuid4().hex[:8]
    ports = {name: _free_port() for name, _, _ in SERVICES}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    data_dir: Path = tmp_path_factory.mktemp("gateway")
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "REDIS_URL": redis_url,
        "PROMETEO_ENV": "test",
        "PROMETEO_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "PROMETEO_CONSUMER_SESSION_TIMEOUT_MS": "1500",
        **{f"PROMETEO_{m.upper()}_GROUP_ID": f"{name}-privacy-{run}" for name, m, _ in SERVICES},
        "PROMETEO_GATEWAY_GROUP_ID": f"gateway-privacy-{run}",
        "PROMETEO_CAMPAIGNS_SEQUENCE_DAY_S": str(DAY_S),
        "PROMETEO_CAMPAIGNS_SCHEDULER_INTERVAL_S": "0.1",
        "PROMETEO_CAMPAIGNS_DEFINITIONS_REFRESH_S": "0",
        "PROMETEO_CAMPAIGNS_QUIET_HOURS": "null",
        "PROMETEO_NEXT_BEST_ACTION_POLICY_PATH": str(policy_file),
        "PROMETEO_NEXT_BEST_ACTION_POLICY_CHECK_INTERVAL_S": "0",
        "PROMETEO_GATEWAY_DATA_DIR": str(data_dir),
        "PROMETEO_GATEWAY_API_KEYS": json.dumps({ADMIN_KEY: "admin"}),
        "PROMETEO_GATEWAY_GUARD_ENABLED": "false",
        "PROMETEO_GATEWAY_INGEST_URL": urls["ingest-openfinance"],
        "PROMETEO_GATEWAY_FEATURE_STORE_URL": urls["feature-store"],
        "PROMETEO_GATEWAY_SCORING_URL": urls["scoring"],
        "PROMETEO_GATEWAY_NEXT_BEST_ACTION_URL": urls["next-best-action"],
        "PROMETEO_GATEWAY_CAMPAIGNS_URL": urls["campaigns"],
    }
    apps = [(name, *_importer(module), lifespan) for name, module, lifespan in SERVICES]
    from gateway.main import app as gateway_app
    from gateway.settings import get_settings as gateway_settings

    with pytest.MonkeyPatch.context() as mp, contextlib.ExitStack() as stack:
        for key, value in env.items():
            mp.setenv(key.replace("-", "_"), value)
        for _, _, get_settings, _ in apps:
            get_settings.cache_clear()
        gateway_settings.cache_clear()
        for name, app, _, lifespan in apps:
            stack.enter_context(_served(app, ports[name], lifespan))
        clients = {name: stack.enter_context(internal_client(url, name)) for name, url in urls.items()}
        for name, _, _, lifespan in apps:
            if lifespan:
                client = clients[name]
                wait_until(lambda: client.get("/readyz").status_code == 200, timeout=30)  # noqa: B023
        gateway = stack.enter_context(TestClient(gateway_app))
        wait_until(lambda: gateway.get("/readyz").status_code == 200, timeout=30)
        yield Platform(run, urls, clients, gateway)
        stack.close()
        for _, _, get_settings, _ in apps:
            get_settings.cache_clear()
        gateway_settings.cache_clear()
