"""`make run` as a user starts it, timed to its first recommendations; then, on that running platform,
event-to-offer latency: account events posted through the gateway at a steady rate (open loop), each timed until
next-best-action's decision for that customer lands on offers.v1. `BENCH=run make bench`.

Targets: first recommendations ≤ 180 s; event → decision p99 ≤ 250 ms at 200/s and ≤ 1 s at 1,000/s.
The baseline of each latency is the broker's own produce → consume hop measured in the same run.

Each settled event is also broken down by stage: one consumer reads account-events, features-updated, scores and
offers beside the benchmark, and a stage is the time from one topic's first record for the customer to the next's
(record timestamps: each producer's send time, ms), printed as p99 with its p50 for: gateway + ingest (POST →
account-events.v1), feature-store, scoring, next-best-action, delivery (offers.v1 → this consumer). And each
process's CPU per posted event, from the window's start until the platform is quiet again, so the backlog the
window left is counted too (psutil, threads and children included; the broker's is the baseline): the judge of
a change on a shared machine, where the latencies move 2-4x between runs.
`BENCH_RUN_PYSPY=1` also records scoring and next-best-action with py-spy (raw stacks in .run/bench/).

The timed windows start on a quiet platform: after the demo bank's backlog has drained (decisions stop growing)
and after the benchmark's own 1,000 consents have been applied everywhere (no service burning CPU), so neither
queues ahead of the measured events.

Measured on two cores shared with three other sessions' stacks and benchmarks (load average 10-19, so figures move
2-4x between runs; compare stages within a run). p50 / p99 ms, `BENCH_RUN_SECONDS=15`:

| stage | before, 200/s | after, 200/s | before, 1,000/s | after, 1,000/s |
|---|---|---|---|---|
| event → offer | 17,700 / 20,239 (644 of 3,000 in time) | 11,817 / 20,083 (2,953) | 27,181 / 47,728 | 12,074 / 24,690 |
| gateway + ingest | 18.6 / 57 | 104 / 227 | 67 / 200 | 109 / 451 |
| feature-store | 147 / 423 | 289 / 654 | 713 / 5,650 | 1,988 / 8,705 |
| scoring | 15,329 / 19,693 | 733 / 1,424 | 8,458 / 37,935 | 4,898 / 18,057 |
| next-best-action | 2,200 / 2,816 | 10,445 / 18,681 | 6,461 / 26,659 | 4,580 / 21,300 |
| delivery | 32 / 67 | 122 / 582 | 57 / 659 | 94 / 306 |

Before, scoring was the wall: a poll's reason rows (customers × 1 + signals, thousands) went to scikit-learn's own
multi-threaded predict, whose OpenMP barriers spin-wait when other processes hold the cores (~100 ms per scored event
in isolation on this machine; 3-7 ms after). After, scoring keeps up at 200/s and next-best-action is the queue
(the after run also shared the machine with an integration test); no stage meets the targets on this machine:
the sum of the stages' CPU per event is above what two shared cores give. `make run` → first recommendations: 281-372 s
before (two runs), 78 s after on a quieter machine, 177-181 s after at load average 15-19.

`BENCH=all make bench` runs this suite after the others."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass

import httpx
import psutil
from kafka import KafkaConsumer, KafkaProducer

from benchmarks.harness import RUN_DIR, Figure, percentile
from prometeo import clock
from prometeo.contracts import topics
from prometeo.contracts.envelope import customer_part
from prometeo.identity import customer_key
from prometeo.settings import DEV_PSEUDONYM_KEY
from prometeo_dev.demo import INGEST_KEY, kpis
from prometeo_dev.platform import SERVICES

RATES = tuple(int(r) for r in os.environ.get("BENCH_RUN_RATES", "200,1000").split(","))
SECONDS = float(os.environ.get("BENCH_RUN_SECONDS", "15"))
CUSTOMERS = int(os.environ.get("BENCH_RUN_CUSTOMERS", "1000"))
TICK_S = 0.05  # one batch POST per tick: rate × 50 ms events each
STARTUP_BUDGET_S = 180.0
# BENCH_RUN_PYSPY=1: py-spy records scoring and next-best-action through each rate's window (raw folded
# stacks in .run/bench/, for flamegraph.pl or speedscope).
PYSPY = os.environ.get("BENCH_RUN_PYSPY", "") not in ("", "0")


def run() -> list[Figure]:
    run_dir = RUN_DIR / "stack"
    shutil.rmtree(run_dir, ignore_errors=True)  # as on a clean clone: no champion from an earlier run
    env = os.environ | {"PROMETEO_RUN_DIR": str(run_dir), "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "prometeo_dev.stack", "--run-dir", str(run_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: list[str] = []
    first_rec_s = float("nan")
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            print(f"    | {line.rstrip()}", flush=True)
            if "first recommendations" in line and first_rec_s != first_rec_s:
                first_rec_s = time.perf_counter() - started
            if "running — Ctrl-C" in line:
                break
        else:
            raise RuntimeError("make run exited before it was up:\n" + "".join(lines[-30:]))
        text = "".join(lines)
        bootstrap = re.search(r"broker (\S+) ·", text)
        gateway = re.search(r"gateway\s+(http://\S+)", text)
        assert bootstrap and gateway, text[-2000:]
        drain = threading.Thread(target=lambda: [None for _ in proc.stdout or []], daemon=True)
        drain.start()
        figures = [
            Figure(
                "make run → first recommendations",
                first_rec_s,
                "s",
                "target",
                STARTUP_BUDGET_S,
                "target ≤ 180 s (ratio ≤ 1)",
            )
        ]
        # Latency on a drained platform: the demo bank's backlog would queue ahead of every event.
        _wait_drained(gateway.group(1))
        figures += _event_to_offer(bootstrap.group(1), gateway.group(1), _processes(proc.pid))
        return figures
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()


def _event_to_offer(bootstrap: str, gateway_url: str, procs: dict[str, psutil.Process]) -> list[Figure]:
    run_id = uuid.uuid4().hex[:6]
    cids = [f"bench-e2o-{run_id}-{i}" for i in range(CUSTOMERS)]
    ck_of = {customer_key(cid, DEV_PSEUDONYM_KEY): cid for cid in cids}
    with _client(gateway_url) as client:
        for cid in cids:
            client.post(
                "/v1/consents",
                json={
                    "customer_id": cid,
                    "consent_id": f"urn:bench:{cid}",
                    "institution": "bench",
                    "scopes": ["accounts", "transactions", "balances"],
                },
            ).raise_for_status()
    # The consents just posted cross every service too (next-best-action applies them one by one): the
    # timed window starts once the platform is quiet again, not while they still drain.
    _wait_quiet(procs)
    baseline = _broker_hop(bootstrap)
    figures = []
    for rate in RATES:
        spies = _py_spy(procs, rate) if PYSPY else []
        cpu_before = _cpu(procs)
        sent, latencies, stages = _steady(bootstrap, gateway_url, cids, ck_of, rate)
        _wait_quiet(procs)  # what the window queued is worked off before the CPU is read: all of its cost
        cpu_after = _cpu(procs)
        for spy in spies:
            spy.wait(30)
        p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
        target = "target p99 ≤ 250 ms" if rate <= 200 else "target p99 ≤ 1,000 ms"
        note = f"{len(latencies)}/{sent} events decided"
        name = f"event → offer decision p%s at {rate}/s"
        figures.append(Figure(name % "50", p50, "ms", "broker produce→consume p50", baseline[0], note))
        figures.append(Figure(name % "99", p99, "ms", "broker produce→consume p99", baseline[1], target))
        for stage, span in STAGES:
            spent = stages[stage]
            if not spent:
                continue
            figures.append(
                Figure(
                    f"  {stage} p99 at {rate}/s",
                    percentile(spent, 0.99),
                    "ms",
                    "broker produce→consume p99",
                    baseline[1],
                    f"p50 {percentile(spent, 0.5):,.1f} ms; {span}",
                )
            )
        # CPU per event of each process from the window's start until the platform is quiet again (every
        # process on the path, and what else they did meanwhile): the broker's own is the baseline.
        cpu = {name: (cpu_after[name] - cpu_before[name]) * 1e6 / max(sent, 1) for name in cpu_before}
        for name, micros in cpu.items():
            if name != "broker":
                figures.append(
                    Figure(
                        f"  {name} CPU per event at {rate}/s",
                        micros,
                        "µs",
                        "broker CPU per event",
                        cpu.get("broker", 0.0),
                    )
                )
    return figures


def _processes(root_pid: int) -> dict[str, psutil.Process]:
    """The platform's processes under `make run`'s: each service by its module, the broker, Redis."""
    modules = {module: name for name, module, _ in SERVICES}
    found: dict[str, psutil.Process] = {}
    for child in psutil.Process(root_pid).children(recursive=True):
        try:
            argv = child.cmdline()
        except psutil.Error:
            continue
        if "-m" in argv and argv.index("-m") + 1 < len(argv) and argv[argv.index("-m") + 1] in modules:
            found[modules[argv[argv.index("-m") + 1]]] = child
        elif argv and os.path.basename(argv[0]) == "tansu":
            found["broker"] = child
        elif argv and os.path.basename(argv[0]).startswith("redis-server"):  # it retitles itself
            found["redis"] = child
    return found


def _cpu(procs: dict[str, psutil.Process]) -> dict[str, float]:
    """CPU seconds (user + system) of each process, its threads and children included."""
    out = {}
    for name, proc in procs.items():
        total = 0.0
        try:
            for p in (proc, *proc.children(recursive=True)):
                t = p.cpu_times()
                total += t.user + t.system
        except psutil.Error:
            pass
        out[name] = total
    return out


def _wait_quiet(procs: dict[str, psutil.Process], quiet_ms_per_s: float = 100.0, timeout_s: float = 120.0) -> None:
    """Until no service process burns more than `quiet_ms_per_s` of CPU per second (over 2 s)."""
    services = {name: proc for name, proc in procs.items() if name not in ("broker", "redis")}
    deadline = time.monotonic() + timeout_s
    last = _cpu(services)
    while time.monotonic() < deadline:
        time.sleep(2)
        now = _cpu(services)
        busiest = max((now[n] - last[n]) * 1e3 / 2 for n in now) if now else 0.0
        last = now
        if busiest < quiet_ms_per_s:
            return


def _py_spy(procs: dict[str, psutil.Process], rate: int) -> list[subprocess.Popen[bytes]]:
    spy = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
    out = []
    for name in ("scoring", "next-best-action"):
        if name in procs:
            target = RUN_DIR / f"py-spy-{name}-{rate}.txt"
            argv = [spy, "record", "--pid", str(procs[name].pid), "--duration", str(int(SECONDS) + 5)]
            argv += ["--rate", "50", "--format", "raw", "--output", str(target)]
            out.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return out


def _wait_drained(gateway_url: str, timeout: float = 900.0, settle_s: float = 10.0) -> None:
    """Until next-best-action's decision count stops growing: every stage has caught up."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        decisions = int(kpis(gateway_url).get("decisions", 0))
        if decisions != last:
            last, since = decisions, time.monotonic()
        elif time.monotonic() - since >= settle_s:
            return
        time.sleep(1)
    raise TimeoutError(f"the demo backlog did not drain in {timeout:.0f} s")


def _broker_hop(bootstrap: str) -> tuple[float, float]:
    """One produce (acks=all, no linger) → consume hop on the same broker, p50 and p99 in ms."""
    topic = topics.OUTCOMES + ".bench-hop"
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=uuid.uuid4().hex, auto_offset_reset="latest")
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    producer.send(topic, b"warm").get(10)
    while not consumer.assignment():
        consumer.poll(100)
    consumer.poll(300)
    hops = []
    for _ in range(100):
        t = time.perf_counter()
        producer.send(topic, b"x").get(10)
        while not any(consumer.poll(timeout_ms=100).values()):
            pass
        hops.append((time.perf_counter() - t) * 1e3)
    consumer.close()
    producer.close()
    return percentile(hops, 0.5), percentile(hops, 0.99)


@dataclass
class Settled:
    """One posted event and the decision that settled it: wall-clock instants in ms, as Kafka stamps records."""

    ck: str
    posted_ms: float
    offer_ms: float
    received_ms: float


# The topics an event crosses, in order, each stamped by its producer at send (the record's CreateTime).
TRACED = (topics.ACCOUNT_EVENTS, topics.FEATURES_UPDATED, topics.SCORES, topics.OFFERS)
STAGES = (
    ("gateway + ingest", "POST → account-events.v1"),
    ("feature-store", "account-events → features-updated"),
    ("scoring", "features-updated → scores.v1"),
    ("next-best-action", "scores.v1 → offers.v1"),
    ("delivery", "offers.v1 → this consumer"),
)


def _steady(
    bootstrap: str, gateway_url: str, cids: list[str], ck_of: dict[str, str], rate: int
) -> tuple[int, list[float], dict[str, list[float]]]:
    """Open loop: a batch every TICK_S on an absolute schedule, customers in rotation. A decision for a
    customer settles every post for that customer still waiting (the stream debounces them into one).
    One consumer also reads the topics in between, so each settled event is broken down by stage."""
    pending: dict[str, deque[tuple[float, float]]] = defaultdict(deque)
    latencies: list[float] = []
    settled: list[Settled] = []
    stamps: dict[str, dict[str, list[float]]] = {topic: defaultdict(list) for topic in TRACED}
    lock = threading.Lock()
    stop = threading.Event()
    consumer = KafkaConsumer(
        *TRACED,
        bootstrap_servers=bootstrap,
        group_id=uuid.uuid4().hex,
        auto_offset_reset="latest",
        fetch_max_wait_ms=20,
    )
    while not consumer.assignment():
        consumer.poll(100)
    consumer.poll(200)

    def watch() -> None:
        while not stop.is_set():
            for records in consumer.poll(timeout_ms=50).values():
                now, wall_ms = time.perf_counter(), time.time() * 1e3
                for record in records:
                    ck = customer_part(record.key or b"").decode()
                    cid = ck_of.get(ck)
                    if cid is None:
                        continue
                    stamps[record.topic][ck].append(float(record.timestamp))
                    if record.topic != topics.OFFERS:
                        continue
                    with lock:
                        waiting = pending.pop(cid, None)
                    if waiting:
                        posted, posted_ms = waiting[0]
                        latencies.append((now - posted) * 1e3)
                        settled.append(Settled(ck, posted_ms, float(record.timestamp), wall_ms))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    per_tick = max(1, round(rate * TICK_S))
    ticks = int(SECONDS / TICK_S)
    sent, n = 0, 0
    with _client(gateway_url) as client:
        t0 = time.perf_counter()
        for tick in range(ticks):
            delay = t0 + tick * TICK_S - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            items = []
            for _ in range(per_tick):
                cid = cids[n % len(cids)]
                n += 1
                sid = uuid.uuid4().hex
                items.append(_event(cid, sid))
            posted, posted_ms = time.perf_counter(), time.time() * 1e3
            with lock:
                for item in items:
                    pending[str(item["customer_id"])].append((posted, posted_ms))
            r = client.post("/v1/events:batch", json={"events": items})
            r.raise_for_status()
            sent += len(items)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with lock:
            if not pending:
                break
        time.sleep(0.2)
    stop.set()
    watcher.join(5)
    consumer.close()
    return sent, latencies, _breakdown(settled, stamps)


def _breakdown(settled: list[Settled], stamps: dict[str, dict[str, list[float]]]) -> dict[str, list[float]]:
    """Per stage, the ms each settled event spent there: from one topic's first record for the customer at
    or after the previous instant to the next's (record timestamps are the producers' send times, in ms)."""
    spent: dict[str, list[float]] = {name: [] for name, _ in STAGES}
    for event in settled:
        # Kafka stamps whole milliseconds: an instant may read up to 1 ms before the one it follows.
        at, instants = event.posted_ms - 1, [event.posted_ms]
        for topic in TRACED[:-1]:
            later = [ts for ts in stamps[topic].get(event.ck, ()) if ts >= at]
            if not later:
                break
            at = min(later)
            instants.append(at)
        else:
            instants += [event.offer_ms, event.received_ms]
            for (name, _), start, end in zip(STAGES, instants[:-1], instants[1:], strict=True):
                spent[name].append(max(0.0, end - start))
    return spent


def _client(gateway_url: str) -> httpx.Client:
    """As a bank core posts: through the gateway, with the ingest client's key (ingest itself takes only
    service tokens)."""
    return httpx.Client(base_url=gateway_url, headers={"X-API-Key": INGEST_KEY}, timeout=30)


def _event(cid: str, sid: str) -> dict[str, object]:
    now = clock.now().isoformat()
    return {
        "customer_id": cid,
        "source_event_id": sid,
        "type": "transaction.booked",
        "version": 1,
        "occurred_at": now,
        "source": "bench",
        "payload": {
            "account_id": "a",
            "transaction_id": sid,
            "direction": "debit",
            "amount": "42.10",
            "booked_at": now,
            "mcc": "5411",
        },
    }
