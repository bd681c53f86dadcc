"""Loads the synthetic bank through the public gateway, as a bank core would, and reads back
recommendations as an advisor would."""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from prometeo_dev.synthbank import SyntheticBank

INGEST_KEY = "dev-ingest-key"
ADVISOR_KEY = "dev-advisor-key"
MARKETING_KEY = "dev-marketing-key"
BATCH_SIZE = 2000

# People of the gateway's built-in OIDC issuer (services/gateway/gateway/dev_users.json holds only their
# password hashes): username → (demo password, what they may see).
DEMO_USERS: dict[str, tuple[str, str]] = {
    "ana.advisor": ("ana-demo-2026", "advisor, portfolio adv-sp-01 of branch br-sp"),
    "bruno.manager": ("bruno-demo-2026", "branch manager, branch br-sp"),
    "carla.marketing": ("carla-demo-2026", "marketing: KPIs and campaigns"),
    "diego.analyst": ("diego-demo-2026", "analyst: KPIs"),
    "dora.dpo": ("dora-demo-2026", "data-protection officer: audit trail, data-subject requests"),
    "admin": ("admin-demo-2026", "admin: clients, guard blocks, everything"),
}
DEMO_CLIENT_ID = "demo-crm"


def sign_in(gateway_url: str, username: str) -> str:
    """An access token for one demo person, from the built-in OIDC issuer (password grant)."""
    password, _ = DEMO_USERS[username]
    r = httpx.post(
        f"{gateway_url}/oidc/token",
        data={"grant_type": "password", "username": username, "password": password},
        timeout=10,
    )
    r.raise_for_status()
    return str(r.json()["access_token"])


def register_client(gateway_url: str, admin_token: str, client_id: str, scopes: Sequence[str]) -> str:
    """Registers an OAuth2 client as the admin would; returns its secret (shown only once)."""
    r = httpx.post(
        f"{gateway_url}/v1/admin/clients",
        json={"client_id": client_id, "name": f"Demo {client_id}", "scopes": list(scopes)},
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=10,
    )
    r.raise_for_status()
    return str(r.json()["client_secret"])


def client_token(gateway_url: str, client_id: str, secret: str, scope: str | None = None) -> str:
    """A client-credentials access token (RFC 6749 §4.4)."""
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    r = httpx.post(f"{gateway_url}/oauth/token", data=form | ({"scope": scope} if scope else {}), timeout=10)
    r.raise_for_status()
    return str(r.json()["access_token"])


@dataclass
class LoadReport:
    consents: int
    received: int
    counts: dict[str, int]
    seconds: float


def load_bank(
    gateway_url: str, bank: SyntheticBank, lanes: int = 1, customers: Sequence[int] | None = None
) -> LoadReport:
    """Consents, then every event, through the gateway in batches of BATCH_SIZE. `lanes` > 1 sends
    that many streams at once, each with its own customers (a customer's events keep their order), so
    gateway, ingest and the broker overlap instead of taking turns. `customers`: only those (bank
    positions), e.g. a first few ahead of the rest."""
    started = time.perf_counter()
    consents = bank.consent_requests()
    chosen = list(range(bank.n_customers)) if customers is None else list(customers)
    shares = [chosen[lane::lanes] for lane in range(lanes)]
    with ThreadPoolExecutor(max_workers=lanes) as pool:
        reports = list(pool.map(lambda share: _load_lane(gateway_url, bank, consents, share), shares))
    counts: dict[str, int] = {}
    for report in reports:
        for status, n in report.counts.items():
            counts[status] = counts.get(status, 0) + n
    return LoadReport(len(chosen), sum(r.received for r in reports), counts, time.perf_counter() - started)


def _load_lane(
    gateway_url: str, bank: SyntheticBank, consents: list[dict[str, Any]], customers: Sequence[int]
) -> LoadReport:
    started = time.perf_counter()
    counts: dict[str, int] = {}
    received = 0
    with httpx.Client(base_url=gateway_url, headers={"X-API-Key": INGEST_KEY}, timeout=60) as client:
        for i in customers:
            client.post("/v1/consents", json=consents[i]).raise_for_status()
        items = [item for i in customers for item in bank.customer_events(i)]
        for start in range(0, len(items), BATCH_SIZE):
            r = client.post("/v1/events:batch", json={"events": items[start : start + BATCH_SIZE]})
            r.raise_for_status()
            body = r.json()
            received += body["received"]
            for status, n in body["counts"].items():
                counts[status] = counts.get(status, 0) + n
    return LoadReport(len(customers), received, counts, time.perf_counter() - started)


def load_bank_brasil(
    gateway_url: str,
    bank: SyntheticBank,
    customers: int | Sequence[int] = 50,
    *,
    page_size: int = 25,
    transport: httpx.BaseTransport | None = None,
) -> LoadReport:
    """A sample of the bank's customers (the first `customers`, or those indices) through the gateway's
    Open Finance Brasil endpoint: their consents (POST /v1/consents), what has no Brazilian home
    (profile, payroll account, insurance) to /v1/events:batch, and every account, balance, statement
    page, card and contract as the GET response ingest maps (see prometeo_dev.brasil). Records come
    back as data shared by a transmitting institution: holdings here arrive as held at `synthbank`."""
    from prometeo_dev.brasil import brasil_requests, canonical_remainder

    started = time.perf_counter()
    sample = list(range(min(customers, bank.n_customers))) if isinstance(customers, int) else list(customers)
    counts: dict[str, int] = {}
    received = 0

    def tally(r: httpx.Response) -> None:
        nonlocal received
        r.raise_for_status()
        body = r.json()
        received += body["received"]
        for status, n in body["counts"].items():
            counts[status] = counts.get(status, 0) + n

    with httpx.Client(
        base_url=gateway_url, headers={"X-API-Key": INGEST_KEY}, timeout=60, transport=transport
    ) as client:
        consents = bank.consent_requests()
        for i in sample:
            client.post("/v1/consents", json=consents[i]).raise_for_status()
        for i in sample:
            items = bank.customer_events(i)
            if rest := canonical_remainder(items):
                tally(client.post("/v1/events:batch", json={"events": rest}))
            for resource, headers, document in brasil_requests(items, page_size=page_size):
                tally(client.post(f"/v1/openfinance/brasil/{resource}", headers=headers, json=document))
    return LoadReport(len(sample), received, counts, time.perf_counter() - started)


def kpis(gateway_url: str) -> dict[str, Any]:
    r = httpx.get(f"{gateway_url}/v1/kpis", headers={"X-API-Key": MARKETING_KEY}, timeout=10)
    r.raise_for_status()
    return r.json()


def wait_for_offers(gateway_url: str, timeout: float = 180.0, settle_s: float = 4.0) -> dict[str, Any]:
    """Until offers stop growing: the stream has drained through every service."""
    deadline = time.monotonic() + timeout
    last, last_change = -1, time.monotonic()
    current: dict[str, Any] = {}
    while time.monotonic() < deadline:
        current = kpis(gateway_url)
        made = int(current.get("offers_made", 0))
        if made != last:
            last, last_change = made, time.monotonic()
        elif made > 0 and time.monotonic() - last_change >= settle_s:
            return current
        time.sleep(1)
    return current


def recommendations(
    gateway_url: str, customer_id: str, lang: str = "es", token: str | None = None
) -> dict[str, Any] | None:
    """As an advisor would read them: with an access token when given, else the dev advisor key."""
    headers = {"Authorization": f"Bearer {token}"} if token else {"X-API-Key": ADVISOR_KEY}
    r = httpx.get(
        f"{gateway_url}/v1/customers/{customer_id}/recommendations",
        params={"lang": lang},
        headers=headers,
        timeout=10,
    )
    return r.json() if r.status_code == 200 else None
