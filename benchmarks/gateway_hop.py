"""CPU of the gateway's own code per recommendation read, in process, without the rest of the platform.

The gateway app (its real middleware, fast handler and upstream calls: `main.upstreams_for`, the
keep-alive transport) is driven through ASGI directly, `CONCURRENCY`
reads at a time, against a stand-in next-best-action in another process (a canned three-offer decision), so
this process's CPU time is the gateway's. The edges that talk to Redis and the audit store are the unit
tests' in-memory fakes: what is measured is the code between them (routing, identity, the upstream hop, the
answer). Prints CPU µs per read (`time.process_time`, every thread of the process), median of `ROUNDS` rounds.

`HOP_FULL=1`: the gateway's own lifespan instead of the fakes, over a Redis and a broker of its own
(prometeo_dev.servers, free ports): the rate-limit script, the client cache, the durable audit record (SQLite,
group commit) and its audit.v1 copy are counted too.

python -m benchmarks.gateway_hop [READS_PER_ROUND] [ROUNDS]
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import uvloop

CONCURRENCY = int(os.environ.get("HOP_CONCURRENCY", "4"))
FULL = os.environ.get("HOP_FULL", "") == "1"

_STUB = r"""
import sys, orjson, uvicorn
body = orjson.dumps({
    "customer_key": "ck_" + "0" * 32, "decision_id": "dc_" + "0" * 32, "model_version": "7",
    "decided_at": "2026-12-01T12:00:00Z", "objective": "expected_value",
    "offers": [{"offer_id": f"of_{r:032d}", "product": "credit_card", "channel": "app_push", "propensity": 0.42,
                "expected_value": 120.5, "rank": r,
                "reasons": [{"code": f"r{i}", "text": "Reason text of a usual length for an advisor", "weight": 0.3}
                            for i in range(3)],
                "rules_passed": ["eligible", "consented", "not_held"]} for r in (1, 2, 3)],
    "blocked": {"loan": ["already_held"]}})
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError("stub upstream exited")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("stub upstream never listened")


async def _read(app: object, path: bytes, headers: list[tuple[bytes, bytes]], method: str = "GET") -> int:
    status = 0
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path.decode(),
        "raw_path": path,
        "query_string": b"lang=es",  # as the gateway asks next-best-action too
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "root_path": "",
        "state": {},
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])  # type: ignore[call-overload]

    await app(scope, receive, send)  # type: ignore[operator]
    return status


async def _rounds(reads: int, rounds: int) -> list[float]:
    from gateway.main import app

    if FULL:
        async with app.router.lifespan_context(app):
            return await _measure(app, reads, rounds)
    _fake_edges(app)
    try:
        return await _measure(app, reads, rounds)
    finally:
        await app.state.upstreams.client.aclose()


def _fake_edges(app: Any) -> None:
    from gateway import main as gateway_main
    from gateway.main import _base_urls, install_identity
    from gateway.settings import get_settings
    from gateway.upstream import UpstreamHealth, Upstreams
    from prometeo.telemetry.tracing import configure_tracing
    from tests.unit.gateway.conftest import FakeLimiter, InMemoryClients, InMemoryRequestLog, InMemoryScopes

    configure_tracing("gateway")
    settings = get_settings()
    if hasattr(gateway_main, "upstreams_for"):
        upstreams = gateway_main.upstreams_for(settings)
    else:  # the code before gateway.hop (A/B runs against a checkout of it on PYTHONPATH)
        legacy_client = getattr(gateway_main, "_upstream_client")  # noqa: B009 (absent from this code)
        upstreams = Upstreams(legacy_client(settings), _base_urls(settings))  # type: ignore[call-arg]
    install_identity(app, settings, InMemoryClients())
    app.state.limiter = FakeLimiter(limit=10**9)
    app.state.scopes = InMemoryScopes()
    app.state.upstreams = upstreams
    app.state.upstream_health = UpstreamHealth(upstreams, 10)
    app.state.requests = InMemoryRequestLog()


async def _measure(app: Any, reads: int, rounds: int) -> list[float]:
    from tests.unit.gateway.conftest import FakeAudit

    headers = [(b"host", b"gateway"), (b"authorization", b"Bearer dev-crm-key"), (b"user-agent", b"bench")]
    paths = [f"/v1/customers/ck_{i:032x}/recommendations".encode() for i in range(400)]

    async def worker(start: int, n: int) -> None:
        for i in range(n):
            status = await _read(app, paths[(start + i) % len(paths)], headers)
            if status != 200:
                raise RuntimeError(f"read answered {status}")

    per_read = []
    by_thread: dict[str, float] = {}
    for r in range(rounds + 1):
        if not FULL:
            app.state.audit = FakeAudit()  # no growing list across rounds
        threads0 = _thread_cpu()
        t0 = time.process_time()
        await asyncio.gather(*(worker(w * 97, reads // CONCURRENCY) for w in range(CONCURRENCY)))
        spent = time.process_time() - t0
        threads1 = _thread_cpu()
        if r:  # the first round warms caches (token, connections, the broker's metadata)
            done = reads // CONCURRENCY * CONCURRENCY
            per_read.append(spent / done * 1e6)
            for name, cpu in threads1.items():
                by_thread[name] = by_thread.get(name, 0.0) + (cpu - threads0.get(name, 0.0)) / done * 1e6 / rounds
    if os.environ.get("HOP_THREADS") == "1":
        print(", ".join(f"{name} {us:.0f} µs" for name, us in sorted(by_thread.items(), key=lambda i: -i[1])))
    return per_read


def _thread_cpu() -> dict[str, float]:
    """CPU seconds of this process's threads by name (Linux /proc; empty elsewhere)."""
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    names = {t.native_id: t.name.split("_")[0] for t in threading.enumerate()}
    for task in Path("/proc/self/task").glob("*"):
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        name = names.get(int(task.name), "other")
        fields = stat[stat.rindex(")") + 2 :].split()
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def main() -> None:
    reads = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    port = _free_port()
    stub = subprocess.Popen([sys.executable, "-c", _STUB, str(port)])
    with contextlib.ExitStack() as stack:
        stack.callback(stub.wait, 5)
        stack.callback(stub.terminate)
        _wait_listening(port, stub)
        data_dir = Path(tempfile.mkdtemp(prefix="gateway-hop-"))
        stack.callback(shutil.rmtree, data_dir, True)
        os.environ.update(
            {
                "PROMETEO_ENV": "test",
                "PROMETEO_GATEWAY_NEXT_BEST_ACTION_URL": f"http://127.0.0.1:{port}",
                "PROMETEO_GATEWAY_DATA_DIR": str(data_dir),
            }
        )
        if FULL:
            from prometeo.bus import ensure_topics
            from prometeo_dev import servers

            os.environ.pop("KAFKA_BOOTSTRAP_SERVERS", None)  # always servers of its own
            os.environ.pop("REDIS_URL", None)
            bootstrap = stack.enter_context(servers.kafka_broker(data_dir))
            redis_url = stack.enter_context(servers.redis_server(data_dir))
            ensure_topics(bootstrap)
            os.environ.update({"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "REDIS_URL": redis_url})
            os.environ["PROMETEO_GATEWAY_RATE_LIMIT_PER_MINUTE"] = str(10**9)
        per_read = uvloop.run(_rounds(reads, rounds))  # the loop uvicorn runs the gateway on
        print(
            f"gateway CPU per read{' (full)' if FULL else ''}: median {statistics.median(per_read):.0f} µs "
            f"(rounds: {', '.join(f'{x:.0f}' for x in per_read)}; {reads} reads/round, {CONCURRENCY} concurrent)"
        )


if __name__ == "__main__":
    main()
