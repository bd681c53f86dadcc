"""Fault drills on real servers: a Kafka-protocol broker (Tansu) on durable S3 storage (moto on
loopback) that a drill can kill -9, restart on the same port, or stall with SIGSTOP; a real Redis;
services as real processes. Small timeouts (settings) keep every drill to seconds."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3  # type: ignore[import-untyped]  # moto[server] brings it; no stubs
import httpx
import pytest

from prometeo.bus import ensure_topics
from prometeo_dev import servers
from prometeo_dev.servers import scaled

RUN_DIR = Path(__file__).resolve().parents[2] / ".run" / "faults"
# The producer gives up on an unacknowledged record after this; callers wait it plus 1 s.
DELIVERY_TIMEOUT_MS = 3000
SESSION_TIMEOUT_MS = 1500


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.faults)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible store (moto) on loopback with the broker's bucket."""
    port = servers.free_port()
    proc = servers.spawn(
        "moto", [str(servers.BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], RUN_DIR / "logs"
    )
    try:
        servers.wait_for_port(port, 30, proc.proc)
        endpoint = f"http://127.0.0.1:{port}"
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name="us-east-1",
        ).create_bucket(Bucket="tansu")
        yield endpoint
    finally:
        proc.stop()


class DurableBroker:
    """Tansu on s3://tansu/: messages and committed offsets survive kill -9 and restart (same port)."""

    def __init__(self, s3: str) -> None:
        self.port = servers.free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self._s3 = s3
        self._proc: servers.Process | None = None

    def start(self) -> None:
        listener = f"tcp://127.0.0.1:{self.port}"
        self._proc = servers.spawn(
            "durable-broker",
            [
                servers.tansu_binary(),
                "broker",
                "--listener-url",
                listener,
                "--advertised-listener-url",
                listener,
                "--storage-engine",
                "s3://tansu/",
            ],
            RUN_DIR / "logs",
            env={
                "AWS_ENDPOINT": self._s3,
                "AWS_ALLOW_HTTP": "true",
                "AWS_ACCESS_KEY_ID": "test",
                "AWS_SECRET_ACCESS_KEY": "test",
                "AWS_DEFAULT_REGION": "us-east-1",
            },
        )
        servers.wait_for_port(self.port, 20, self._proc.proc)

    def kill(self) -> None:
        assert self._proc is not None
        self._proc.kill()

    def stall(self) -> None:
        assert self._proc is not None
        os.killpg(self._proc.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self._proc is not None
        os.killpg(self._proc.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.proc.pid, signal.SIGCONT)
            self._proc.stop()


@pytest.fixture(scope="session")
def durable_broker(s3_endpoint: str) -> Iterator[DurableBroker]:
    broker = DurableBroker(s3_endpoint)
    broker.start()
    try:
        ensure_topics(broker.bootstrap)
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def faults_redis() -> Iterator[str]:
    with servers.redis_server(RUN_DIR / "logs") as url:
        yield url


class Service:
    """One platform service as a process, with the drills' short timeouts."""

    def __init__(self, name: str, module: str, broker: DurableBroker, redis_url: str, **env: str) -> None:
        self.name, self.module = name, module
        self.port = servers.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        prefix = "PROMETEO_" + name.upper().replace("-", "_") + "_"
        self.env = {
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
            "REDIS_URL": redis_url,
            "PROMETEO_ENV": "test",
            "PROMETEO_CONSUMER_SESSION_TIMEOUT_MS": str(SESSION_TIMEOUT_MS),
            "PROMETEO_PRODUCER_DELIVERY_TIMEOUT_MS": str(DELIVERY_TIMEOUT_MS),
            f"{prefix}PORT": str(self.port),
            f"{prefix}HOST": "127.0.0.1",
            **env,
        }
        self._proc: servers.Process | None = None

    def start(self) -> None:
        self._proc = servers.spawn(self.name, [sys.executable, "-m", self.module], RUN_DIR / "logs", env=self.env)

    def kill(self) -> None:
        assert self._proc is not None
        self._proc.kill()

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.stop()

    def ready(self) -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(f"{self.url}/readyz", timeout=5).status_code == 200
        return False

    def wait_ready(self, timeout: float = 60) -> float:
        """Seconds until /readyz answers 200, with no manual step in between."""
        started = time.monotonic()
        deadline = started + scaled(timeout)
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self._proc.proc.returncode}")
            if self.ready():
                return time.monotonic() - started
            time.sleep(0.2)
        detail = httpx.get(f"{self.url}/readyz", timeout=5).text if self._proc else ""
        raise TimeoutError(f"{self.name} not ready after {timeout}s: {detail}")


@pytest.fixture(scope="session")
def ingest(durable_broker: DurableBroker, faults_redis: str) -> Iterator[Service]:
    service = Service(
        "ingest-openfinance",
        "ingest_openfinance",
        durable_broker,
        faults_redis,
        PROMETEO_INGEST_OPENFINANCE_GROUP_ID=f"ingest-faults-{uuid.uuid4().hex[:6]}",
    )
    service.start()
    try:
        service.wait_ready(90)
        yield service
    finally:
        service.stop()
