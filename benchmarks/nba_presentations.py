"""CPU of next-best-action per `POST /v1/nba/{ck}/presentations` (what the gateway calls per recommendation
read), in process: the service's own lifespan over a Redis and a broker of its own (prometeo_dev.servers, free
ports), 400 customers' scores stored as the scores consumer stores them, the app driven through ASGI directly
with a gateway service token, `CONCURRENCY` calls at a time. The first round publishes each customer's
presentation; the measured rounds re-present them (the recommendations benchmark's case: repeats within 60 s
write no second record, next_best_action/presented.py). Prints CPU µs per call (`time.process_time`, every
thread of the process), median of `ROUNDS` rounds.

python -m benchmarks.nba_presentations [CALLS_PER_ROUND] [ROUNDS]
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop

from benchmarks.gateway_hop import _read

CONCURRENCY = int(os.environ.get("HOP_CONCURRENCY", "4"))
CUSTOMERS = 400


async def _rounds(calls: int, rounds: int) -> list[float]:
    from next_best_action.main import app
    from next_best_action.settings import get_settings
    from prometeo import clock
    from prometeo.service_tokens import ServiceKeys, issue
    from tests.unit.next_best_action.factories import scores

    settings = get_settings()
    token = issue(ServiceKeys.from_settings(settings), issuer="gateway", audience="next-best-action", ttl_s=300)
    headers = [(b"host", b"nba"), (b"authorization", f"Bearer {token}".encode()), (b"content-length", b"0")]
    keys = [f"ck_{i:032x}" for i in range(CUSTOMERS)]
    paths = [f"/v1/nba/{ck}/presentations".encode() for ck in keys]
    async with app.router.lifespan_context(app):
        for ck in keys:
            app.state.store.save_scores(ck, scores(), clock.now())
        # Ready (views rebuilt, consumers joined: 503 before), then until the broker takes a first presentation.
        for _ in range(600):
            if await _read(app, b"/readyz", []) == 200 and await _read(app, paths[0], headers, "POST") == 200:
                break
            await asyncio.sleep(0.1)

        async def worker(start: int, n: int) -> None:
            for i in range(n):
                status = await _read(app, paths[(start + i) % len(paths)], headers, method="POST")
                if status != 200:
                    raise RuntimeError(f"presentation answered {status}")

        per_call = []
        for r in range(rounds + 1):
            t0 = time.process_time()
            n = (CUSTOMERS if r == 0 else calls) // CONCURRENCY
            await asyncio.gather(*(worker(w * (CUSTOMERS // CONCURRENCY), n) for w in range(CONCURRENCY)))
            spent = time.process_time() - t0
            if r:  # the first round publishes every first presentation
                per_call.append(spent / (n * CONCURRENCY) * 1e6)
        return per_call


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    from prometeo.bus import ensure_topics
    from prometeo_dev import servers

    with contextlib.ExitStack() as stack:
        data_dir = Path(tempfile.mkdtemp(prefix="nba-presentations-"))
        stack.callback(shutil.rmtree, data_dir, True)
        os.environ.pop("KAFKA_BOOTSTRAP_SERVERS", None)  # always servers of its own
        os.environ.pop("REDIS_URL", None)
        bootstrap = stack.enter_context(servers.kafka_broker(data_dir))
        redis_url = stack.enter_context(servers.redis_server(data_dir))
        ensure_topics(bootstrap)
        env: dict[str, Any] = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "REDIS_URL": redis_url, "PROMETEO_ENV": "test"}
        os.environ.update(env)
        per_call = uvloop.run(_rounds(calls, rounds))
        print(
            f"next-best-action CPU per presentation: median {statistics.median(per_call):.0f} µs "
            f"(rounds: {', '.join(f'{x:.0f}' for x in per_call)}; {calls} calls/round, {CONCURRENCY} concurrent)"
        )


if __name__ == "__main__":
    main()
