"""`make run`: the whole platform on this machine, with a demo bank, until Ctrl-C.

python -m prometeo_dev.stack [--no-demo] [--customers N] [--seed S]

One line per stage, each stamped with the seconds since start. The demo bank is posted through the
gateway on a thread: the first customers' events while the model trains, the rest once it is
registered. The first recommendations are shown as soon as scoring serves the champion and those first
customers are decided, not after the whole bank is in; the bank's ingest line follows when it is.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, cast

import httpx

from prometeo_dev.platform import SERVICES, Infrastructure, Platform, default_run_dir, infrastructure, platform

if TYPE_CHECKING:
    from prometeo_dev.demo import LoadReport
    from prometeo_dev.synthbank import SyntheticBank
    from scoring.training import TrainingReport

BOLD, DIM, RESET = "\033[1m", "\033[2m", "\033[0m"
# Concurrent event streams into the gateway, each with its own customers (their events keep their order).
LOAD_LANES = 2
# Customers whose events go in first, while the model trains; the rest of the bank follows once it is
# registered, so training does not share two cores with the whole bank's ingest (the longest pole of the
# first recommendations). The first recommendations are looked for among these.
FIRST_CUSTOMERS = 60


_STARTED = time.perf_counter()


def say(text: str) -> None:
    print(f"{BOLD}prometeo{RESET} {DIM}{time.perf_counter() - _STARTED:5.0f}s{RESET} {text}", flush=True)


def _report_recommendations(plat: Platform, customer_ids: list[str], timeout: float = 120.0) -> str | None:
    """Prints up to three customers' recommendations as soon as the stream has produced them (the
    first customers' events went in first); returns one shown (synthetic) customer id."""
    from prometeo_dev.demo import recommendations

    shown: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    while not shown and time.monotonic() < deadline:
        for cid in customer_ids:
            rec = recommendations(plat.url("gateway"), cid, "es")
            if rec and rec.get("recommendations"):
                shown[cid] = rec
                if len(shown) == 3:
                    break
        if not shown:
            time.sleep(1)
    for cid, rec in shown.items():
        masked = cid[:3] + ".***.***-" + cid[-2:]
        print(f"\n  {BOLD}Customer {masked}{RESET}  ({rec['customer_key'][:14]}…, model {rec.get('model_version')})")
        for offer in rec["recommendations"][:3]:
            print(
                f"    #{offer['rank']} {offer['product']:<16} via {offer['channel']:<9} "
                f"propensity {offer['propensity']:.2f}  expected value {offer['expected_value']:.0f}"
            )
            for reason in offer.get("reasons", [])[:3]:
                print(f"       {DIM}· {reason['text']}{RESET}")
    if not shown:
        print("  (no customer cleared the offer threshold)")
    return next(iter(shown), None)


TRAINING_THREAD = "demo-training"


class _ThreadFilter(io.TextIOBase):
    """sys.stdout/stderr stand-in: what one thread writes goes to a log file, the rest to the terminal.
    MLflow writes its registration and run-URL lines straight to the streams, mid-way through stages."""

    def __init__(self, target: TextIO, thread_name: str, log: TextIO) -> None:
        self._target, self._thread_name, self._log = target, thread_name, log

    def write(self, text: str) -> int:
        out = self._log if threading.current_thread().name == self._thread_name else self._target
        return out.write(text)

    def flush(self) -> None:
        self._target.flush()
        self._log.flush()


@contextlib.contextmanager
def _thread_output_to(thread_name: str, log_path: Path) -> Iterator[None]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a") as log:
        saved = sys.stdout, sys.stderr
        sys.stdout = _ThreadFilter(saved[0], thread_name, log)
        sys.stderr = _ThreadFilter(saved[1], thread_name, log)
        try:
            yield
        finally:
            sys.stdout, sys.stderr = saved


@dataclass
class DemoTraining:
    """The demo bank and its model, trained on a thread from the moment MLflow is up: the services start,
    and the bank's events go in, meanwhile (the stream waits in the topics until scoring has a champion).
    `registered` is set once the version is registered and promoted; the thread then draws and logs the
    evaluation report, which serving does not wait for."""

    bank: SyntheticBank
    thread: threading.Thread
    outcome: dict[str, object]
    registered: threading.Event
    mlflow_ready: threading.Event

    @classmethod
    def start(cls, customers: int, seed: int) -> DemoTraining:
        """Before the servers: the training's imports and frames need none, only its registration does."""
        from prometeo_dev.synthbank import generate_bank

        bank = generate_bank(customers, seed=seed)
        say(f"generated a synthetic bank: {customers} customers; training a propensity model meanwhile")
        outcome: dict[str, object] = {}
        registered, mlflow_ready = threading.Event(), threading.Event()
        thread = threading.Thread(
            target=_train, args=(bank, outcome, registered, mlflow_ready), name=TRAINING_THREAD, daemon=True
        )
        thread.start()
        return cls(bank, thread, outcome, registered, mlflow_ready)

    def mlflow_up(self, mlflow_uri: str) -> None:
        self.outcome["mlflow_uri"] = mlflow_uri
        self.mlflow_ready.set()

    def report(self) -> TrainingReport:
        self.registered.wait()
        if isinstance(error := self.outcome.get("error"), BaseException):
            raise error
        report = cast("TrainingReport", self.outcome["report"])
        say(
            f"trained and registered in {self.outcome['seconds']:.0f}s (imports and training frames "
            f"{self.outcome['frames']:.0f}s of it): {report.table().splitlines()[0]}"
        )
        return report


def _train(
    bank: SyntheticBank, outcome: dict[str, object], registered: threading.Event, mlflow_ready: threading.Event
) -> None:
    began = time.perf_counter()
    outcome["frames"] = float("nan")
    from threadpoolctl import threadpool_limits

    from prometeo_dev.demo_model import train_demo_model
    from prometeo_dev.training_set import build_time_split

    def on_registered(report: TrainingReport) -> None:
        outcome["report"], outcome["seconds"] = report, time.perf_counter() - began
        registered.set()

    try:
        # Many small fits: OpenMP pools cost more than they give on a busy two-core machine (the
        # services compete for it meanwhile); one thread per fit trained 3-10x faster here.
        with threadpool_limits(1):
            earlier, later = build_time_split(bank)
            outcome["frames"] = time.perf_counter() - began
            mlflow_ready.wait()
            mlflow_uri = str(outcome["mlflow_uri"])
            train_demo_model(bank, mlflow_uri, frame=later, train_frame=earlier, on_registered=on_registered)
        outcome["report_s"] = time.perf_counter() - began
    except BaseException as exc:  # re-raised on the main thread, unless it struck after the registration
        outcome.setdefault("error", exc)
        traceback.print_exc()  # this thread's stderr is demo-training.log
    finally:
        registered.set()


@dataclass
class DemoLoad:
    """The bank posted through the gateway on a thread, in two waves: the first customers at once, the
    rest when `trained` is set. Within a wave each lane's customers' events go in order."""

    thread: threading.Thread
    outcome: dict[str, object]
    trained: threading.Event

    @classmethod
    def start(cls, gateway_url: str, bank: SyntheticBank) -> DemoLoad:
        from prometeo_dev.demo import load_bank

        outcome: dict[str, object] = {}
        trained = threading.Event()
        first = min(FIRST_CUSTOMERS, bank.n_customers)

        def load() -> None:
            try:
                head = load_bank(gateway_url, bank, lanes=LOAD_LANES, customers=range(first))
                say(f"first {head.consents} customers' {head.received} events in ({head.seconds:.1f}s)")
                outcome["head"] = head
                trained.wait()
                outcome["rest"] = load_bank(
                    gateway_url, bank, lanes=LOAD_LANES, customers=range(first, bank.n_customers)
                )
            except BaseException as exc:  # re-raised on the main thread
                outcome["error"] = exc
            finally:
                trained.set()

        thread = threading.Thread(target=load, name="demo-load", daemon=True)
        thread.start()
        say(f"posting the first {first} customers' events through the gateway; the rest once the model is registered")
        return cls(thread, outcome, trained)

    def report(self) -> None:
        self.trained.set()
        self.thread.join()
        if isinstance(error := self.outcome.get("error"), BaseException):
            raise error
        head, rest = cast("LoadReport", self.outcome["head"]), cast("LoadReport", self.outcome["rest"])
        received, seconds = head.received + rest.received, head.seconds + rest.seconds
        counts = dict(head.counts)
        for status, n in rest.counts.items():
            counts[status] = counts.get(status, 0) + n
        say(
            f"ingested {received} events for {head.consents + rest.consents} consented customers in {seconds:.1f}s "
            f"({received / max(seconds, 1e-9):.0f} events/s): {counts}"
        )


def run_demo(plat: Platform, training: DemoTraining, started: float) -> str | None:
    from prometeo_dev.demo import kpis

    loading = DemoLoad.start(plat.url("gateway"), training.bank)
    training.report()
    loading.trained.set()
    plat.wait_ready(["scoring"], timeout=180)
    say("scoring serves the champion")
    example = _report_recommendations(plat, training.bank.customers["customer_id"].head(FIRST_CUSTOMERS).tolist())
    if example is not None:
        say(f"first recommendations {time.perf_counter() - started:.0f}s after start")
    loading.report()
    say(f"offers made so far: {kpis(plat.url('gateway')).get('offers_made', 0)} (the stream keeps draining)")
    run_living(plat, training.bank)
    return example


def run_living(plat: Platform, bank: SyntheticBank) -> None:
    """After the first recommendations (never before them): the demo campaign's weeks of history."""
    from prometeo_dev.living import run_living_demo

    try:
        report = run_living_demo(plat.url("gateway"), plat.infra.bootstrap, bank)
    except (httpx.HTTPError, RuntimeError) as exc:  # the platform is still worth showing without it
        say(f"demo campaign not backfilled: {exc}")
        return
    say(report.line())


def print_access(gateway: str, example: str | None) -> None:
    """The demo people (built-in OIDC issuer) and a registered CRM client, with curl lines for both."""
    import secrets

    from prometeo_dev.demo import DEMO_CLIENT_ID, DEMO_USERS, register_client, sign_in

    print(f"\n  {BOLD}People{RESET} (built-in OIDC issuer, {gateway}/oidc; dev only)")
    for username, (password, duties) in DEMO_USERS.items():
        print(f"    {username:<16} {password:<17} {DIM}{duties}{RESET}")
    customer = example or "<customer id>"
    # A fresh id per run: Redis may outlive the gateway, and a secret is shown only once.
    client_id = f"{DEMO_CLIENT_ID}-{secrets.token_hex(3)}"
    try:
        secret = register_client(gateway, sign_in(gateway, "admin"), client_id, ["crm"])
    except httpx.HTTPError as exc:
        print(f"  (demo client not registered: {exc})")
        secret = "<secret>"
    print(f"\n  {BOLD}OAuth2 client{RESET} {client_id} (scope crm), secret {secret}")
    print(
        f"  try: TOKEN=$(curl -s {gateway}/oauth/token -d grant_type=client_credentials "
        f"-d client_id={client_id} -d client_secret={secret} | python3 -c 'import json,sys; "
        f'print(json.load(sys.stdin)["access_token"])\')'
    )
    print(f'       curl -H "Authorization: Bearer $TOKEN" {gateway}/v1/customers/{customer}/recommendations?lang=en')
    print(
        f"  or as a person: curl -s {gateway}/oidc/token -d grant_type=password "
        f"-d username=ana.advisor -d password={DEMO_USERS['ana.advisor'][0]}"
    )


def print_console(console: str, demo: bool = True) -> None:
    """The console's address and who can sign in to it, last, so it is what the terminal shows."""
    from prometeo_dev.demo import DEMO_USERS
    from prometeo_dev.living import DEMO_CAMPAIGN

    print(f"\n  {BOLD}Console{RESET} {console}  (sign in as one of the people below)")
    if demo:
        print(f"    {DIM}the demo campaign's funnel and holdout: {console}/dashboard?campaign={DEMO_CAMPAIGN}{RESET}")
    for username, (password, duties) in DEMO_USERS.items():
        print(f"    {username:<16} {password:<17} {DIM}{duties}{RESET}")


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-demo", action="store_true", help="start an empty platform")
    # 1,000 customers (~108k events): the model still clears its gate, and the demo is up in about three
    # minutes on two cores; --customers 2000 for the fuller bank.
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--run-dir", type=Path, default=default_run_dir())
    args = parser.parse_args(argv)

    # One line per stage: no MLflow upload/download progress bars in between.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    # SIGTERM behaves like Ctrl-C: unwinding the context managers stops every process.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _run(args)
    except KeyboardInterrupt:
        say("stopped: no process left behind")
        return 0


def _run(args: argparse.Namespace) -> int:
    started = _STARTED
    with _thread_output_to(TRAINING_THREAD, args.run_dir / "logs" / "demo-training.log"):
        training = None if args.no_demo else DemoTraining.start(args.customers, args.seed)
        say(f"starting broker, Redis and MLflow (logs in {args.run_dir / 'logs'})")
        with infrastructure(args.run_dir) as infra:
            say(f"broker {infra.bootstrap} · redis {infra.redis_url} · mlflow {infra.mlflow_uri} up")
            if training is not None:
                training.mlflow_up(infra.mlflow_uri)
            return _serve(args, infra, training, started)


def _serve(args: argparse.Namespace, infra: Infrastructure, training: DemoTraining | None, started: float) -> int:
    say("starting the six services and the console")
    # Services start before the model exists: scoring becomes ready once the champion is registered.
    with platform(args.run_dir, infra, wait=[n for n, _, _ in SERVICES if n != "scoring"]) as plat:
        say("services ready (scoring waits for its champion)")
        example = None if training is None else run_demo(plat, training, started)
        print()
        for name, _, _ in SERVICES:
            print(f"  {name:<20} {plat.url(name)}   (/healthz /readyz /metrics /docs)")
        print_access(plat.url("gateway"), example)
        print_console(plat.url("console"), demo=training is not None)
        say("running — Ctrl-C stops everything")
        while True:
            time.sleep(1)
            for name, proc in plat.processes.items():
                if proc.proc.poll() is not None:
                    say(f"{name} exited with {proc.proc.returncode}; see {proc.log_path}")
                    return 1


if __name__ == "__main__":
    sys.exit(main())
