"""Console: each page's server time (p95) with the demo bank loaded, against the gateway call behind it measured
in the same run (the ratio is what rendering adds). Target: every page under 300 ms p95.

The whole platform runs as processes (as `make run`); `BENCH=quick` loads a smaller bank. The advisor's "today"
is timed twice: cold (the gateway ranks the portfolio: one preview per member) and warm (its 15 s cache).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from benchmarks.harness import RUN_DIR, Figure, percentile
from prometeo_dev.demo import DEMO_USERS, load_bank, sign_in, wait_for_offers
from prometeo_dev.demo_model import train_demo_model
from prometeo_dev.platform import SERVICES, infrastructure, platform
from prometeo_dev.synthbank import generate_bank

QUICK = os.environ.get("BENCH", "").lower() == "quick"
CUSTOMERS = int(os.environ.get("BENCH_CONSOLE_CUSTOMERS", "600" if QUICK else "2000"))
# Each person may make 300 requests a minute (the gateway limit): four timed pages of 60 stay under it.
SAMPLES = int(os.environ.get("BENCH_CONSOLE_SAMPLES", "30" if QUICK else "60"))
TARGET = "target < 300 ms p95"


def _p95_ms(call: Callable[[], httpx.Response], samples: int = SAMPLES) -> float:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        response = call()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (response.status_code, response.text[:300])
    return percentile(times, 0.95)


def _console_session(console: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=console, timeout=30)
    r = client.post("/signin", data={"username": username, "password": DEMO_USERS[username][0]})
    assert r.status_code == 303, r.text
    return client


def run() -> list[Figure]:
    run_dir = Path(RUN_DIR / "console")
    figures: list[Figure] = []
    with infrastructure(run_dir) as infra:
        waited = [n for n, _, _ in SERVICES if n != "scoring"]
        with platform(run_dir, infra, preferred_ports=False, wait=waited) as plat:
            bank = generate_bank(CUSTOMERS, seed=7)
            train_demo_model(bank, infra.mlflow_uri)
            plat.wait_ready(["scoring"], timeout=300)
            gateway, console = plat.url("gateway"), plat.url("console")
            load_bank(gateway, bank)
            wait_for_offers(gateway, timeout=300)
            ana_token, carla_token = sign_in(gateway, "ana.advisor"), sign_in(gateway, "carla.marketing")
            api = httpx.Client(base_url=gateway, timeout=30)
            ana, carla = _console_session(console, "ana.advisor"), _console_session(console, "carla.marketing")

            def as_ana(path: str) -> httpx.Response:
                return api.get(path, headers={"Authorization": f"Bearer {ana_token}"})

            def as_carla(path: str) -> httpx.Response:
                return api.get(path, headers={"Authorization": f"Bearer {carla_token}"})

            # Cold: wait out the gateway's ranking cache before each sample.
            cold = []
            for _ in range(max(3, SAMPLES // 20)):
                time.sleep(15.5)
                started = time.perf_counter()
                assert ana.get("/today").status_code == 200
                cold.append((time.perf_counter() - started) * 1000)
            priorities = as_ana("/v1/portfolio/priorities?lang=es").json()
            top = priorities["items"][0]["customer_key"]
            figures += [
                Figure(
                    "today (cold: portfolio ranked) p95",
                    percentile(cold, 0.95),
                    "ms",
                    "portfolio members",
                    float(priorities["total"]),
                    TARGET,
                ),
                Figure(
                    "today (warm) p95",
                    _p95_ms(lambda: ana.get("/today")),
                    "ms",
                    "gateway priorities p95",
                    _p95_ms(lambda: as_ana("/v1/portfolio/priorities?lang=es")),
                    TARGET,
                ),
                Figure(
                    "customer 360 p95",
                    _p95_ms(lambda: ana.get(f"/customers/{top}")),
                    "ms",
                    "gateway overview p95",
                    _p95_ms(lambda: as_ana(f"/v1/customers/{top}/overview?lang=es")),
                    TARGET,
                ),
                Figure(
                    "dashboard p95",
                    _p95_ms(lambda: carla.get("/dashboard")),
                    "ms",
                    "gateway kpis p95",
                    _p95_ms(lambda: as_carla("/v1/kpis")),
                    TARGET,
                ),
                Figure(
                    "campaigns p95",
                    _p95_ms(lambda: carla.get("/campaigns")),
                    "ms",
                    "gateway campaigns p95",
                    _p95_ms(lambda: as_carla("/v1/campaigns")),
                    TARGET,
                ),
                Figure(
                    "sign-in page p95",
                    _p95_ms(lambda: httpx.get(f"{console}/signin")),
                    "ms",
                    "console /healthz p95",
                    _p95_ms(lambda: httpx.get(f"{console}/healthz")),
                    TARGET,
                ),
            ]
    return figures
