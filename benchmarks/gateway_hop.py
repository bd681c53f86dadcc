"""CPU of the gateway's own code per recommendation read, in process, without the rest of the platform.

The gateway app (its real middleware, fast handler and upstream calls: `main.upstreams_for`, the
keep-alive transport) is driven through ASGI directly, `CONCURRENCY`
reads at a time, against a stand-in next-best-action in another process (a canned three-offer decision), so
this process's CPU time is the gateway's. The edges that talk to Redis and the audit store are the unit
tests' in-memory fakes: what is measured is the code between them (routing, identity, the upstream hop, the
answer). Prints CPU µs per read (`time.process_time`), median of `ROUNDS` rounds.

python -m benchmarks.gateway_hop [READS_PER_ROUND] [ROUNDS]
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import uvloop

CONCURRENCY = int(os.environ.get("HOP_CONCURRENCY", "4"))

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


async def _read(app: object, path: bytes, headers: list[tuple[bytes, bytes]]) -> int:
    status = 0
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path.decode(),
        "raw_path": path,
        "query_string": b"lang=es",
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
    from gateway import main as gateway_main
    from gateway.main import _base_urls, app, install_identity
    from gateway.settings import get_settings
    from gateway.upstream import UpstreamHealth, Upstreams
    from prometeo.telemetry.tracing import configure_tracing
    from tests.unit.gateway.conftest import FakeAudit, FakeLimiter, InMemoryClients, InMemoryRequestLog, InMemoryScopes

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
    headers = [(b"host", b"gateway"), (b"authorization", b"Bearer dev-crm-key"), (b"user-agent", b"bench")]
    paths = [f"/v1/customers/ck_{i:032x}/recommendations".encode() for i in range(400)]

    async def worker(start: int, n: int) -> None:
        for i in range(n):
            status = await _read(app, paths[(start + i) % len(paths)], headers)
            if status != 200:
                raise RuntimeError(f"read answered {status}")

    per_read = []
    for r in range(rounds + 1):
        app.state.audit = FakeAudit()  # no growing list across rounds
        t0 = time.process_time()
        await asyncio.gather(*(worker(w * 97, reads // CONCURRENCY) for w in range(CONCURRENCY)))
        spent = time.process_time() - t0
        if r:  # the first round warms caches (token, connections)
            per_read.append(spent / (reads // CONCURRENCY * CONCURRENCY) * 1e6)
    await upstreams.client.aclose()
    return per_read


def main() -> None:
    reads = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    port = _free_port()
    stub = subprocess.Popen([sys.executable, "-c", _STUB, str(port)])
    try:
        _wait_listening(port, stub)
        os.environ.update(
            {
                "PROMETEO_ENV": "test",
                "PROMETEO_GATEWAY_NEXT_BEST_ACTION_URL": f"http://127.0.0.1:{port}",
                "PROMETEO_GATEWAY_DATA_DIR": str(Path(os.environ.get("TMPDIR", "/tmp")) / "gateway-hop"),
            }
        )
        per_read = uvloop.run(_rounds(reads, rounds))  # the loop uvicorn runs the gateway on
        print(
            f"gateway CPU per read: median {statistics.median(per_read):.0f} µs "
            f"(rounds: {', '.join(f'{x:.0f}' for x in per_read)}; {reads} reads/round, {CONCURRENCY} concurrent)"
        )
    finally:
        stub.terminate()
        stub.wait(5)


if __name__ == "__main__":
    main()
