"""A Redis the drills can kill and bring back EMPTY on the same port (a restart without persistence),
and the platform's Redis-backed services as real processes pointed at it."""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from next_best_action.settings import DEFAULT_POLICY
from prometeo_dev import servers
from tests.conftest import RUN_DIR

LOGS = RUN_DIR / "faults"


@dataclass
class WipeableRedis:
    port: int = field(default_factory=servers.free_port)
    process: servers.Process | None = None
    data_dir: Path | None = None
    wipes: int = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.data_dir = Path(tempfile.mkdtemp(prefix="prometeo-redis-wiped-"))
        argv = [servers.redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "no", "--dir", str(self.data_dir)]
        self.process = servers.spawn(f"redis-wiped-{self.port}", argv, LOGS)
        servers.wait_for_port(self.port, 10, self.process.proc)

    def kill(self) -> None:
        """kill -9, and nothing left on disk: the next `start` is an empty Redis on the same port."""
        self.stop(kill=True)
        self.wipes += 1

    def stop(self, kill: bool = False) -> None:
        if self.process is not None:
            self.process.kill() if kill else self.process.stop()
            self.process = None
        if self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None


@pytest.fixture
def wipeable_redis() -> Iterator[WipeableRedis]:
    server = WipeableRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Service:
    name: str
    module: str
    port: int
    process: servers.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def readyz(self) -> tuple[int, dict[str, dict[str, object]]]:
        try:
            r = httpx.get(f"{self.url}/readyz", timeout=servers.scaled(2))
        except httpx.HTTPError as exc:
            return 0, {"http": {"ok": False, "detail": type(exc).__name__}}
        return r.status_code, r.json().get("checks", {})


def _policy(tmp: Path) -> Path:
    """The default policy without quiet hours: a decision must not depend on the hour the suite runs."""
    text = re.sub(r"  quiet_hours:.*?\n\n", "\n", DEFAULT_POLICY.read_text(), flags=re.S)
    text = text.replace("learning:\n  enabled: true", "learning:\n  enabled: false")
    assert "quiet_hours" not in text
    path = tmp / "policy.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def redis_services(broker: str, wipeable_redis: WipeableRedis, tmp_path: Path) -> Iterator[dict[str, Service]]:
    """ingest-openfinance, feature-store, next-best-action and campaigns as processes on free ports, each
    with its own consumer group, checking their epoch markers every 0.5 s; started together, ready together."""
    run = uuid.uuid4().hex[:8]
    wanted = {
        "ingest-openfinance": "ingest_openfinance",
        "feature-store": "feature_store",
        "next-best-action": "next_best_action",
        "campaigns": "campaigns",
    }
    services = {name: Service(name, module, servers.free_port()) for name, module in wanted.items()}
    common = {
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "REDIS_URL": wipeable_redis.url,
        "PROMETEO_ENV": "test",
        "PROMETEO_CONSUMER_SESSION_TIMEOUT_MS": "1500",
        "PROMETEO_VIEWS_CHECK_INTERVAL_S": "0.5",
        "PROMETEO_NEXT_BEST_ACTION_POLICY_PATH": str(_policy(tmp_path)),
        "PROMETEO_NEXT_BEST_ACTION_POLICY_CHECK_INTERVAL_S": "0",
    }
    try:
        for svc in services.values():
            prefix = "PROMETEO_" + svc.name.upper().replace("-", "_") + "_"
            env = {**common, f"{prefix}PORT": str(svc.port), f"{prefix}GROUP_ID": f"{svc.name}-wiped-{run}"}
            svc.process = servers.spawn(f"{svc.name}-wiped", [sys.executable, "-m", svc.module], LOGS, env=env)
        for svc in services.values():
            assert svc.process is not None
            servers.wait_for_http(f"{svc.url}/readyz", 60, svc.process.proc)
        yield services
    finally:
        for svc in services.values():
            if svc.process is not None:
                svc.process.stop()
