"""What users feel: recommendations through the gateway, with the whole platform running.

The six services, broker, Redis and MLflow start on free ports; a small demo bank (prometeo_dev) is
trained on, loaded through the gateway and drained to offers; a registered CRM client (OAuth2 client
credentials, a real token) then reads `GET /v1/customers/{id}/recommendations` at rising fixed rates,
open loop (benchmarks/loadgen.py), each step bounded in time. Each step reports the achieved rate,
p50/p95/p99 (from each request's scheduled time) and the CPU milliseconds per request of every
process involved (psutil on their pids, children included), against a bare FastAPI endpoint on the
same uvicorn setup measured at the same rates in the same run.

A soak then offers a fixed rate for a bounded time and reports each process's RSS at the end against
its RSS after warm-up (ratio = growth). Default: a short soak; `BENCH=soak` (or `all`) soaks 10 minutes;
`BENCH=quick` runs fewer, shorter steps.

Knobs: BENCH_RECO_RATES (comma list), BENCH_RECO_STEP_S, BENCH_SOAK_S, BENCH_SOAK_RATE, BENCH_RECO_CUSTOMERS,
BENCH_RECO_FIRST_SHOWINGS=1 (every read records its presentation: no repeat within 60 s is skipped).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from benchmarks.harness import RUN_DIR, Figure
from benchmarks.loadgen import LoadResult, get_request, offer
from prometeo_dev import servers
from prometeo_dev.demo import client_token, load_bank, register_client, sign_in, wait_for_offers
from prometeo_dev.demo_model import train_demo_model
from prometeo_dev.platform import Platform, infrastructure, platform
from prometeo_dev.synthbank import generate_bank

MODE = os.environ.get("BENCH", "").lower()
QUICK = MODE == "quick"
SOAK = MODE in ("soak", "all")  # BENCH=all prints every figure, the 10-minute soak included
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def _floats(name: str, default: str) -> list[float]:
    return [float(x) for x in os.environ.get(name, default).split(",") if x.strip()]


RATES = _floats("BENCH_RECO_RATES", "100,400" if QUICK else "50,100,200,400,600")
STEP_S = float(os.environ.get("BENCH_RECO_STEP_S", "5" if QUICK else "10"))
SOAK_S = float(os.environ.get("BENCH_SOAK_S", "600" if SOAK else ("30" if QUICK else "90")))
SOAK_RATE = float(os.environ.get("BENCH_SOAK_RATE", "100"))
CUSTOMERS = int(os.environ.get("BENCH_RECO_CUSTOMERS", "400"))
# The steps re-read the same customers every few seconds, so next-best-action answers most reads without a
# second presentation record (presented.py); 1 records every one, the cost of a first showing.
FIRST_SHOWINGS = os.environ.get("BENCH_RECO_FIRST_SHOWINGS", "") == "1"
WARMUP_FRACTION = 0.25
# Processes a recommendation touches (scoring and the feature store are idle on this path).
INVOLVED = ("gateway", "next-best-action", "campaigns", "broker", "redis")


def _listener_pid(port: int) -> int | None:
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            return conn.pid
    return None


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/", 1)[0])


class Meter:
    """CPU seconds and RSS of named processes, each with its children (uvicorn workers)."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.procs = {name: psutil.Process(pid) for name, pid in pids.items()}

    def _family(self, name: str) -> list[psutil.Process]:
        proc = self.procs[name]
        if name == "loadgen":  # this process: its children are the platform, counted on their own
            return [proc]
        try:
            return [proc, *proc.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu(self) -> dict[str, float]:
        out = {}
        for name in self.procs:
            total = 0.0
            for p in self._family(name):
                with contextlib.suppress(psutil.NoSuchProcess):
                    t = p.cpu_times()
                    total += t.user + t.system
            out[name] = total
        return out

    def settle(self, quiet_ms_per_s: float = 150.0, timeout_s: float = 15.0) -> None:
        """Until no measured process (but this one) burns more than `quiet_ms_per_s` CPU per second."""
        deadline = time.monotonic() + timeout_s
        last = self.cpu()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = self.cpu()
            busy = max(2e3 * (now[n] - last[n]) for n in now if n != "loadgen")
            last = now
            if busy < quiet_ms_per_s:
                return

    def rss_mib(self) -> dict[str, float]:
        out = {}
        for name in self.procs:
            total = 0
            for p in self._family(name):
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += p.memory_info().rss
            out[name] = total / 2**20
        return out


@dataclass
class Step:
    load: LoadResult
    cpu_ms: dict[str, float]  # per successful request

    @classmethod
    def measure(cls, meter: Meter, host: str, port: int, requests: list[bytes], rate: float, secs: float) -> Step:
        # A step after a saturated one must not inherit its backlog: let the processes go quiet first.
        meter.settle()
        before = meter.cpu()
        load = offer(host, port, requests, rate, secs)
        after = meter.cpu()
        n = max(load.ok, 1)
        return cls(load, {name: (after[name] - before[name]) * 1e3 / n for name in before})


@contextlib.contextmanager
def bare_endpoint(log_dir: Path) -> Iterator[tuple[int, int]]:
    port = servers.free_port()
    root = str(Path(__file__).resolve().parent.parent)
    proc = servers.spawn(
        "bare-endpoint",
        [sys.executable, "-m", "benchmarks.bare_app", str(port)],
        log_dir,
        env={"PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")},
    )
    try:
        servers.wait_for_http(f"http://127.0.0.1:{port}/healthz", 30, proc.proc)
        yield proc.proc.pid, port
    finally:
        proc.stop()


def _crm_token(plat: Platform, client_id: str) -> str:
    """A registered CRM client's access token (client credentials), as an integration would hold."""
    gateway = plat.url("gateway")
    secret = register_client(gateway, sign_in(gateway, "admin"), client_id, ["crm"])
    return client_token(gateway, client_id, secret)


def _customers_with_offers(gateway: str, token: str, candidates: list[str]) -> list[str]:
    found = []
    with httpx.Client(base_url=gateway, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        for cid in candidates:
            r = client.get(f"/v1/customers/{cid}/recommendations", params={"lang": "es"})
            if r.status_code == 200 and r.json().get("recommendations"):
                found.append(cid)
    return found


def _latency_figures(label: str, rate: float, s: Step, b: Step) -> list[Figure]:
    return [
        Figure(
            f"{label} @{rate:.0f}/s achieved",
            s.load.achieved_rate,
            "req/s",
            "bare endpoint achieved",
            b.load.achieved_rate,
            "target ≥ 400/s" if rate >= 400 else "",
        ),
        Figure(f"{label} @{rate:.0f}/s p50", s.load.p(0.5), "ms", "bare endpoint p50", b.load.p(0.5)),
        Figure(f"{label} @{rate:.0f}/s p95", s.load.p(0.95), "ms", "bare endpoint p95", b.load.p(0.95)),
        Figure(
            f"{label} @{rate:.0f}/s p99",
            s.load.p(0.99),
            "ms",
            "bare endpoint p99",
            b.load.p(0.99),
            "target ≤ 25 ms" if rate >= 400 else "",
        ),
    ]


def _cpu_figures(rate: float, s: Step, b: Step) -> list[Figure]:
    bare = b.cpu_ms["bare"]
    figures = [
        Figure(f"  CPU/request {name} @{rate:.0f}/s", s.cpu_ms[name], "ms", "bare endpoint CPU/request", bare)
        for name in INVOLVED
    ]
    both = s.cpu_ms["gateway"] + s.cpu_ms["next-best-action"]
    figures.append(
        Figure(
            f"  CPU/request gateway+nba @{rate:.0f}/s", both, "ms", "bare endpoint CPU/request", bare, "target ≤ 3 ms"
        )
    )
    figures.append(
        Figure(
            f"  CPU/request load generator @{rate:.0f}/s",
            s.cpu_ms["loadgen"],
            "ms",
            "same vs bare",
            b.cpu_ms["loadgen"],
        )
    )
    return figures


def _soak(
    meter: Meter, host: str, port: int, requests: list[bytes]
) -> tuple[LoadResult, dict[str, float], dict[str, float]]:
    """Offers SOAK_RATE for SOAK_S in slices; RSS after warm-up and at the end (medians of 3 samples)."""
    slice_s = min(10.0, SOAK_S / 6)
    samples: list[tuple[float, dict[str, float]]] = []
    started = time.perf_counter()
    total = LoadResult(offered_rate=SOAK_RATE, duration_s=0.0)
    while time.perf_counter() - started < SOAK_S:
        part = offer(host, port, requests, SOAK_RATE, slice_s, grace_s=2.0)
        total.ok += part.ok
        total.errors += part.errors
        total.duration_s += part.duration_s
        total.finished_s += max(part.finished_s, part.duration_s)
        total.latencies_ms.extend(part.latencies_ms)
        samples.append((time.perf_counter() - started, meter.rss_mib()))
    warm = [rss for at, rss in samples if at >= WARMUP_FRACTION * SOAK_S]
    first, last = warm[:3], warm[-3:]

    def med(rows: list[dict[str, float]], name: str) -> float:
        values = sorted(r[name] for r in rows)
        return values[len(values) // 2]

    names = list(samples[0][1])
    return total, {n: med(first, n) for n in names}, {n: med(last, n) for n in names}


def run() -> list[Figure]:
    run_dir = RUN_DIR / "recommendations"
    log_dir = run_dir / "logs"
    client_id = f"bench-crm-{secrets.token_hex(3)}"
    figures: list[Figure] = []
    with infrastructure(run_dir) as infra:
        bank = generate_bank(CUSTOMERS, seed=11)
        started = time.perf_counter()
        train_demo_model(bank, infra.mlflow_uri)
        trained = time.perf_counter()
        # A CRM integration with a quota sized for batch reads (the default is interactive use).
        env = {"PROMETEO_GATEWAY_CLIENT_RATE_LIMITS_PER_MINUTE": f'{{"{client_id}": 100000000}}'}
        if FIRST_SHOWINGS:  # every read records its presentation, as a first showing of each customer does
            env["PROMETEO_NEXT_BEST_ACTION_PRESENTATION_REPEAT_TTL_S"] = "0"
        with (
            platform(run_dir, infra, preferred_ports=False, extra_env=env) as plat,
            bare_endpoint(log_dir) as (bare_pid, bare_port),
        ):
            gateway = plat.url("gateway")
            load = load_bank(gateway, bank)
            wait_for_offers(gateway, timeout=180)
            token = _crm_token(plat, client_id)
            customers = _customers_with_offers(gateway, token, bank.customers["customer_id"].tolist())
            print(
                f"  platform up: model trained in {trained - started:.0f} s, {load.received:,} events loaded in "
                f"{load.seconds:.0f} s; {len(customers)} of {CUSTOMERS} customers have offers",
                flush=True,
            )
            if not customers:
                raise RuntimeError("no demo customer got recommendations")
            gw_port = _port(gateway)
            reco = [
                get_request(
                    "127.0.0.1",
                    gw_port,
                    f"/v1/customers/{cid}/recommendations?lang=es",
                    {"Authorization": f"Bearer {token}"},
                )
                for cid in customers
            ]
            bare_req = [
                get_request("127.0.0.1", bare_port, f"/v1/customers/{cid}/recommendations?lang=es") for cid in customers
            ]
            pids = {name: plat.processes[name].proc.pid for name in ("gateway", "next-best-action", "campaigns")}
            pids["broker"] = _listener_pid(_port(infra.bootstrap)) or 0
            pids["redis"] = _listener_pid(_port(infra.redis_url)) or 0
            pids = {n: p for n, p in pids.items() if p}
            meter = Meter({**pids, "bare": bare_pid, "loadgen": os.getpid()})
            # Warm-up: connections, caches, JIT-free Python's first-call costs.
            offer("127.0.0.1", gw_port, reco, 50, 2)
            offer("127.0.0.1", bare_port, bare_req, 50, 2)
            for rate in RATES:
                b = Step.measure(meter, "127.0.0.1", bare_port, bare_req, rate, STEP_S)
                s = Step.measure(meter, "127.0.0.1", gw_port, reco, rate, STEP_S)
                figures += _latency_figures("recommendations via gateway", rate, s, b)
                figures += _cpu_figures(rate, s, b)
                print(
                    f"    @{rate:.0f}/s statuses {dict(sorted(s.load.statuses.items()))} "
                    f"errors {s.load.errors} unfinished {s.load.unfinished}",
                    flush=True,
                )
            soak, warm, end = _soak(meter, "127.0.0.1", gw_port, reco)
            figures.append(
                Figure(
                    f"soak {SOAK_S:.0f} s @{SOAK_RATE:.0f}/s achieved",
                    soak.ok / max(soak.finished_s, 1e-9),
                    "req/s",
                    "offered",
                    SOAK_RATE,
                )
            )
            figures.append(Figure("soak p99", soak.p(0.99), "ms", "soak p50", soak.p(0.5)))
            for name in (*pids, "bare"):
                figures.append(
                    Figure(
                        f"soak RSS {name} at end", end[name], "MiB", "RSS after warm-up", warm[name], "target ≤ 1.10×"
                    )
                )
    return figures
