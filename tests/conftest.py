"""Session-scoped real servers. With a Docker engine, testcontainers; otherwise local processes on
free ports (Tansu broker, redis-server, MLflow). A URL in the environment (KAFKA_BOOTSTRAP_SERVERS,
REDIS_URL, MLFLOW_TRACKING_URI) is used as given, never the machine's preinstalled servers."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis as redis_lib

from prometeo.bus import ensure_topics
from prometeo_dev import servers
from prometeo_dev.servers import timeout_scale

RUN_DIR = Path(__file__).resolve().parent.parent / ".run" / "tests"
# ../shared beside the checkout; PROMETEO_SHARED_DIR points elsewhere (a worktree one level deeper).
SHARED = Path(os.environ.get("PROMETEO_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PROMETEO_TEST_TIMEOUT_SCALE stretches pytest-timeout's limit too (the ini value or a test's own
    `timeout` mark), like every deadline in the test helpers."""
    scale = timeout_scale()
    if scale == 1:
        return
    default = float(config.getini("timeout") or 0)
    for item in items:
        mark = item.get_closest_marker("timeout")
        base = default
        if mark is not None:
            base = float(mark.args[0]) if mark.args else float(mark.kwargs.get("timeout", default))
        if base > 0:
            item.add_marker(pytest.mark.timeout(base * scale), append=False)  # the closest mark wins


def _docker_engine() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@contextlib.contextmanager
def _container_broker() -> Iterator[str]:
    from testcontainers.kafka import KafkaContainer

    with KafkaContainer().with_kraft() as kafka:
        yield kafka.get_bootstrap_server()


@contextlib.contextmanager
def _container_redis() -> Iterator[str]:
    from testcontainers.redis import RedisContainer

    with RedisContainer() as r:
        yield f"redis://{r.get_container_host_ip()}:{r.get_exposed_port(6379)}/0"


@pytest.fixture(scope="session")
def broker() -> Iterator[str]:
    """Bootstrap servers of a real Kafka-protocol broker, with every platform topic created."""
    use_docker = _docker_engine() and "KAFKA_BOOTSTRAP_SERVERS" not in os.environ
    cm = _container_broker() if use_docker else servers.kafka_broker(RUN_DIR)
    with cm as bootstrap:
        ensure_topics(bootstrap)
        yield bootstrap


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    use_docker = _docker_engine() and "REDIS_URL" not in os.environ
    cm = _container_redis() if use_docker else servers.redis_server(RUN_DIR)
    with cm as url:
        yield url


@pytest.fixture
def redis(redis_url: str) -> Iterator[redis_lib.Redis]:
    client = redis_lib.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def mlflow_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with servers.mlflow_server(RUN_DIR, tmp_path_factory.mktemp("mlflow")) as uri:
        yield uri


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Unique names (consumer groups, customer ids) so tests sharing one broker never collide."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def service_env(monkeypatch: pytest.MonkeyPatch, broker: str, redis_url: str) -> Callable[[dict[str, str]], None]:
    """Point the services' settings at the test servers (settings caches are cleared by callers)."""

    def apply(extra: dict[str, str]) -> None:
        monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", broker)
        monkeypatch.setenv("REDIS_URL", redis_url)
        monkeypatch.setenv("PROMETEO_ENV", "test")
        monkeypatch.setenv("PROMETEO_CONSUMER_SESSION_TIMEOUT_MS", "1500")
        for key, value in extra.items():
            monkeypatch.setenv(key, value)

    return apply


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"../shared is absent ({SHARED}): fixtures unavailable")
    return SHARED
