"""`make run`: the whole platform on this machine, with a demo bank, until Ctrl-C.

python -m prometeo_dev.stack [--no-demo] [--customers N] [--seed S]
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

import httpx

from prometeo_dev.platform import SERVICES, Platform, default_run_dir, infrastructure, platform

BOLD, DIM, RESET = "\033[1m", "\033[2m", "\033[0m"


def say(text: str) -> None:
    print(f"{BOLD}prometeo{RESET} {text}", flush=True)


def _report_recommendations(plat: Platform, customer_ids: list[str]) -> str | None:
    """Prints up to three customers' recommendations; returns one shown (synthetic) customer id."""
    from prometeo_dev.demo import recommendations

    shown, example = 0, None
    for cid in customer_ids:
        rec = recommendations(plat.url("gateway"), cid, "es")
        if not rec or not rec.get("recommendations"):
            continue
        shown += 1
        example = example or cid
        masked = cid[:3] + ".***.***-" + cid[-2:]
        print(f"\n  {BOLD}Customer {masked}{RESET}  ({rec['customer_key'][:14]}…, model {rec.get('model_version')})")
        for offer in rec["recommendations"][:3]:
            print(
                f"    #{offer['rank']} {offer['product']:<16} via {offer['channel']:<9} "
                f"propensity {offer['propensity']:.2f}  expected value {offer['expected_value']:.0f}"
            )
            for reason in offer.get("reasons", [])[:3]:
                print(f"       {DIM}· {reason['text']}{RESET}")
        if shown == 3:
            break
    if shown == 0:
        print("  (no customer cleared the offer threshold)")
    return example


def run_demo(plat: Platform, customers: int, seed: int) -> str | None:
    from prometeo_dev.demo import load_bank, wait_for_offers
    from prometeo_dev.demo_model import train_demo_model
    from prometeo_dev.synthbank import generate_bank

    bank = generate_bank(customers, seed=seed)
    say(f"generated a synthetic bank: {customers} customers")
    started = time.perf_counter()
    report = train_demo_model(bank, plat.infra.mlflow_uri)
    say(f"trained and registered a propensity model in {time.perf_counter() - started:.0f}s")
    print(report.table())
    plat.wait_ready(["scoring"], timeout=180)
    load = load_bank(plat.url("gateway"), bank)
    say(
        f"ingested {load.received} events for {load.consents} consented customers in {load.seconds:.1f}s "
        f"({load.received / max(load.seconds, 1e-9):.0f} events/s): {load.counts}"
    )
    kpis = wait_for_offers(plat.url("gateway"))
    say(f"offers made: {kpis.get('offers_made', 0)}")
    return _report_recommendations(plat, bank.customers["customer_id"].head(200).tolist())


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


def print_console(console: str) -> None:
    """The console's address and who can sign in to it, last, so it is what the terminal shows."""
    from prometeo_dev.demo import DEMO_USERS

    print(f"\n  {BOLD}Console{RESET} {console}  (sign in as one of the people below)")
    for username, (password, duties) in DEMO_USERS.items():
        print(f"    {username:<16} {password:<17} {DIM}{duties}{RESET}")


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-demo", action="store_true", help="start an empty platform")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--run-dir", type=Path, default=default_run_dir())
    args = parser.parse_args(argv)

    # SIGTERM behaves like Ctrl-C: unwinding the context managers stops every process.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _run(args)
    except KeyboardInterrupt:
        say("stopped: no process left behind")
        return 0


def _run(args: argparse.Namespace) -> int:
    say(f"starting broker, Redis and MLflow (logs in {args.run_dir / 'logs'})")
    with infrastructure(args.run_dir) as infra:
        say(f"broker {infra.bootstrap} · redis {infra.redis_url} · mlflow {infra.mlflow_uri}")
        say("starting the six services and the console")
        # Services start before the model exists: scoring becomes ready once the champion is registered.
        with platform(args.run_dir, infra, wait=[n for n, _, _ in SERVICES if n != "scoring"]) as plat:
            example = None if args.no_demo else run_demo(plat, args.customers, args.seed)
            print()
            for name, _, _ in SERVICES:
                print(f"  {name:<20} {plat.url(name)}   (/healthz /readyz /metrics /docs)")
            print_access(plat.url("gateway"), example)
            print_console(plat.url("console"))
            say("running — Ctrl-C stops everything")
            while True:
                time.sleep(1)
                for name, proc in plat.processes.items():
                    if proc.proc.poll() is not None:
                        say(f"{name} exited with {proc.proc.returncode}; see {proc.log_path}")
                        return 1


if __name__ == "__main__":
    sys.exit(main())
