"""The six services, and the web console in front of the gateway, as real processes on one machine, wired to
real servers. Used by `make run` and by the end-to-end and browser tests (which also kill and restart services)."""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from prometeo.bus import ensure_topics
from prometeo.service_tokens import ServiceKeys, ServiceTokenAuth
from prometeo_dev import servers

# (name, python module, preferred port): one name everywhere (folder, compose, Helm, consumer group).
SERVICES: tuple[tuple[str, str, int], ...] = (
    ("ingest-openfinance", "ingest_openfinance", 8001),
    ("feature-store", "feature_store", 8002),
    ("scoring", "scoring", 8003),
    ("next-best-action", "next_best_action", 8004),
    ("campaigns", "campaigns", 8005),
    ("gateway", "gateway", 8000),
    # Not a platform service: the people's web client, which calls only the gateway's public API.
    ("console", "console", 8010),
)


# Gateway settings fields naming each upstream's base URL.
GATEWAY_UPSTREAM_SETTINGS = {
    "ingest-openfinance": "ingest_url",
    "feature-store": "feature_store_url",
    "scoring": "scoring_url",
    "next-best-action": "next_best_action_url",
    "campaigns": "campaigns_url",
}


def env_prefix(name: str) -> str:
    return "PROMETEO_" + name.upper().replace("-", "_") + "_"


@dataclass(frozen=True)
class Infrastructure:
    bootstrap: str
    redis_url: str
    mlflow_uri: str


@contextlib.contextmanager
def infrastructure(run_dir: Path) -> Iterator[Infrastructure]:
    """Broker, Redis and MLflow: from the environment when configured, else started here."""
    logs = run_dir / "logs"
    with (
        servers.kafka_broker(logs) as bootstrap,
        # AOF, as in compose and Helm: a Redis restarted on its data dir keeps what the log cannot rebuild.
        # The dir lives as long as the in-memory broker does (a later run starts both empty, in step).
        servers.redis_server(logs, appendonly=True) as redis_url,
        servers.mlflow_server(logs, run_dir / "mlflow") as mlflow_uri,
    ):
        ensure_topics(bootstrap)
        yield Infrastructure(bootstrap, redis_url, mlflow_uri)


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class Platform:
    infra: Infrastructure
    run_dir: Path
    ports: dict[str, int]
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, servers.Process] = field(default_factory=dict)
    # One key per run for the service tokens the services call each other with (prometeo.service_tokens),
    # unless the environment brings its own.
    service_token_key: str = field(
        default_factory=lambda: os.environ.get("PROMETEO_SERVICE_TOKEN_KEY") or secrets.token_hex(32)
    )

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def env_for(self, name: str) -> dict[str, str]:
        prefix = env_prefix(name)
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": self.infra.bootstrap,
            "REDIS_URL": self.infra.redis_url,
            "MLFLOW_TRACKING_URI": self.infra.mlflow_uri,
            "PROMETEO_ENV": "dev",
            "PROMETEO_SERVICE_TOKEN_KEY": self.service_token_key,
            "PROMETEO_CONSUMER_SESSION_TIMEOUT_MS": "3000",
            f"{prefix}PORT": str(self.ports[name]),
            f"{prefix}HOST": "127.0.0.1",
        }
        if name == "gateway":
            for other, setting in GATEWAY_UPSTREAM_SETTINGS.items():
                env[f"{prefix}{setting.upper()}"] = self.url(other)
            # The embedded audit database, and the issuer its tokens name (its own URL).
            env[f"{prefix}DATA_DIR"] = str(self.run_dir / "gateway")
            env[f"{prefix}TOKEN_ISSUER"] = self.url(name)
            # A local stack is used at any hour: the working-hours rule is round the clock here (tests pin it).
            env[f"{prefix}GUARD_WORKING_HOURS"] = '["00:00:00", "00:00:00"]'
            env[f"{prefix}GUARD_WORKING_DAYS"] = "[0, 1, 2, 3, 4, 5, 6]"
            # A console session lasts as long as its token: an hour on a laptop, not five minutes.
            env[f"{prefix}TOKEN_LIFETIME_S"] = "3600"
        if name == "scoring":
            # Until the first champion is registered (a demo trains one while the services start), ask the
            # registry twice a second rather than every 2 s: the first scores wait on this poll.
            env[f"{prefix}LOAD_RETRY_S"] = "0.5"
        if name == "console":
            env[f"{prefix}GATEWAY_URL"] = self.url("gateway")
            # Plain HTTP on loopback: the session cookie cannot be Secure here (it is everywhere else).
            env[f"{prefix}COOKIE_SECURE"] = "false"
        env.update(self.extra_env)
        return env

    def caller_auth(self, name: str, caller: str = "prometeo-dev") -> ServiceTokenAuth:
        """For calling service `name` directly (tools, tests): service tokens under this run's key."""
        return ServiceTokenAuth(ServiceKeys(self.service_token_key), caller, audience=name)

    def start(self, name: str) -> None:
        module = {n: m for n, m, _ in SERVICES}[name]
        self.processes[name] = servers.spawn(
            name, [sys.executable, "-m", module], self.run_dir / "logs", env=self.env_for(name)
        )

    def wait_ready(self, names: list[str] | None = None, timeout: float = 120.0) -> None:
        for name in names or list(self.ports):
            servers.wait_for_http(f"{self.url(name)}/readyz", timeout, self.processes[name].proc)

    def stop(self, name: str) -> None:
        self.processes.pop(name).stop()

    def kill(self, name: str) -> None:
        self.processes.pop(name).kill()

    def stop_all(self) -> None:
        # Gateway first (no new requests), then the pipeline from its end back to its start.
        for name in reversed([n for n, _, _ in SERVICES]):
            if name in self.processes:
                self.stop(name)


@contextlib.contextmanager
def platform(
    run_dir: Path,
    infra: Infrastructure,
    *,
    preferred_ports: bool = True,
    extra_env: dict[str, str] | None = None,
    wait: list[str] | None = None,
) -> Iterator[Platform]:
    """All six services and the console started and ready; stopped (no orphan, no bound port) on exit."""
    ports = {name: port if preferred_ports and _port_free(port) else servers.free_port() for name, _, port in SERVICES}
    plat = Platform(infra, run_dir, ports, dict(extra_env or {}))
    try:
        for name, _, _ in SERVICES:
            plat.start(name)
        plat.wait_ready(wait)
        yield plat
    finally:
        plat.stop_all()


def default_run_dir() -> Path:
    return Path(os.environ.get("PROMETEO_RUN_DIR", Path.cwd() / ".run" / "stack"))
