"""The durable, hash-chained audit trail: stored records, the DPO's query, the verify CLI, fail-closed reads.

SQLite is embedded (a file under tmp_path), so these run without any server; the PostgreSQL store runs
the same checks when PROMETEO_TEST_POSTGRES_URL points at a database (never required).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NoReturn

import httpx
import pytest

from gateway.audit import DurableAuditTrail
from gateway.audit.__main__ import main as audit_cli
from gateway.audit.store import AuditQuery, AuditStore, PostgresAuditStore, SqliteAuditStore
from gateway.domain.audit import AuditAction, AuditEntry, AuditRecord, ChainBroken, verify_chain
from gateway.main import app
from prometeo.identity import customer_key
from prometeo.settings import DEV_PSEUDONYM_KEY
from prometeo.web import Problem
from prometeo_dev.demo import DEMO_USERS
from tests.unit.gateway.conftest import Gateway

CPF = "123.456.789-09"
CK = customer_key(CPF, DEV_PSEUDONYM_KEY)
T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def _entry(n: int, customer: str = CK, actor: str = "ana.advisor") -> AuditEntry:
    return AuditEntry(
        actor=actor,
        user_id=actor,
        client_id="prometeo-console",
        role="advisor",
        action=AuditAction.READ,
        resource="recommendations",
        purpose="customer_service",
        customer_key=customer,
        detail=f"n={n}",
    )


class _Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        self.at += timedelta(minutes=1)
        return self.at


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteAuditStore]:
    store = SqliteAuditStore(tmp_path / "audit.sqlite3", now=_Clock())
    yield store
    store.close()


def _fill(store: AuditStore, n: int = 5) -> None:
    for i in range(n):
        store.append(_entry(i, customer=CK if i % 2 == 0 else "ck_someone-else", actor="ana" if i < 3 else "bruno"))


def test_records_are_chained_and_verify(sqlite_store: SqliteAuditStore) -> None:
    _fill(sqlite_store)
    records = list(sqlite_store.scan())
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(records))
    assert verify_chain(records) == (5, records[-1].hash)


def test_the_cli_verifies_then_fails_after_one_record_is_edited(
    sqlite_store: SqliteAuditStore, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(sqlite_store)
    path = str(sqlite_store.path)
    assert audit_cli(["verify", "--file", path]) == 0
    assert "ok: 5 records" in capsys.readouterr().out
    with sqlite3.connect(path) as db:
        db.execute("UPDATE audit_records SET actor = 'someone-innocent' WHERE seq = 3")
    assert audit_cli(["verify", "--file", path]) == 1
    err = capsys.readouterr().err
    assert "record 3" in err and "edited" in err


def test_the_cli_fails_after_one_record_is_removed(
    sqlite_store: SqliteAuditStore, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(sqlite_store)
    head = list(sqlite_store.scan())[-1].hash
    path = str(sqlite_store.path)
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM audit_records WHERE seq = 2")
    assert audit_cli(["verify", "--file", path]) == 1
    assert "record 2 is missing" in capsys.readouterr().err
    # A record cut from the end is caught against a head kept elsewhere.
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM audit_records")
    for i in range(4):
        SqliteAuditStore(Path(path)).append(_entry(i))
    assert audit_cli(["verify", "--file", path, "--head", head]) == 1


def test_rewriting_a_record_with_a_fresh_hash_still_breaks_the_next_one(sqlite_store: SqliteAuditStore) -> None:
    from gateway.domain.audit import chain_hash

    _fill(sqlite_store)
    second = list(sqlite_store.scan())[1]
    forged = second.model_copy(update={"actor": "nobody"})
    entry = AuditEntry.model_validate(forged.model_dump(include=set(AuditEntry.model_fields)))
    new_hash = chain_hash(second.prev_hash, second.seq, second.at, entry)
    with sqlite3.connect(sqlite_store.path) as db:
        db.execute("UPDATE audit_records SET actor = 'nobody', hash = ? WHERE seq = 2", (new_hash,))
    with pytest.raises(ChainBroken) as broken:
        verify_chain(sqlite_store.scan())
    assert broken.value.seq == 3


def test_query_by_customer_actor_and_time(sqlite_store: SqliteAuditStore) -> None:
    _fill(sqlite_store)
    assert [r.seq for r in sqlite_store.query(AuditQuery(customer_key=CK))] == [1, 3, 5]
    assert [r.seq for r in sqlite_store.query(AuditQuery(actor="bruno"))] == [4, 5]
    window = AuditQuery(since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4))
    assert [r.seq for r in sqlite_store.query(window)] == [2, 3]
    assert len(sqlite_store.query(AuditQuery(limit=2))) == 2


@pytest.mark.skipif("PROMETEO_TEST_POSTGRES_URL" not in os.environ, reason="no PostgreSQL configured")
def test_postgres_store_chains_and_queries_the_same_way() -> None:
    import psycopg

    url = os.environ["PROMETEO_TEST_POSTGRES_URL"]
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS audit_records")
    store = PostgresAuditStore(url, now=_Clock())
    try:
        _fill(store)
        assert verify_chain(store.scan())[0] == 5
        assert [r.seq for r in store.query(AuditQuery(customer_key=CK))] == [1, 3, 5]
        with psycopg.connect(url) as conn:
            conn.execute("UPDATE audit_records SET detail = 'x' WHERE seq = 4")
        with pytest.raises(ChainBroken):
            verify_chain(store.scan())
    finally:
        store.close()


# ---- through the API -----------------------------------------------------------------------------


@pytest.fixture
def durable(gateway: Gateway, sqlite_store: SqliteAuditStore) -> Gateway:
    app.state.audit = DurableAuditTrail(sqlite_store)
    return gateway


def _sign_in(gateway: Gateway, username: str) -> dict[str, str]:
    form = {"grant_type": "password", "username": username, "password": DEMO_USERS[username][0]}
    return {"Authorization": "Bearer " + gateway.client.post("/oidc/token", data=form).json()["access_token"]}


DECISION = {
    "customer_key": CK,
    "decision_id": "d",
    "model_version": "1",
    "decided_at": "2025-01-01T00:00:00Z",
    "offers": [],
    "blocked": {},
}


def test_the_dpo_sees_who_read_a_customer(durable: Gateway) -> None:
    durable.upstream.handler = lambda r: httpx.Response(200, json=DECISION)
    dora = _sign_in(durable, "dora.dpo")
    headers = {**dora, "X-Purpose": "compliance_review"}
    assert durable.client.get(f"/v1/customers/{CPF}/recommendations", headers=headers).status_code == 200
    page = durable.client.get("/v1/audit", params={"customer": CPF}, headers=dora)
    assert page.status_code == 200, page.text
    [record] = page.json()["records"]
    assert (record["user_id"], record["client_id"], record["role"]) == ("dora.dpo", "prometeo-console", "dpo")
    assert (record["action"], record["resource"], record["purpose"], record["result"]) == (
        "read",
        "recommendations",
        "compliance_review",
        "ok",
    )
    assert record["customer_key"] == CK and CPF not in page.text and record["hash"]
    # The DPO's own query is on the trail, and the chain still verifies.
    by_dora = durable.client.get(
        "/v1/audit", params={"actor": "dora.dpo", "from": "2000-01-01T00:00:00Z"}, headers=dora
    )
    assert [r["resource"] for r in by_dora.json()["records"]] == ["recommendations", "audit"]
    assert durable.client.get("/v1/audit", params={"from": "2026-01-01T00:00:00"}, headers=dora).status_code == 422


def test_only_admin_and_dpo_query_the_trail(durable: Gateway) -> None:
    assert durable.client.get("/v1/audit", headers={"X-API-Key": "dev-admin-key"}).status_code == 200
    for role in ("advisor", "crm", "marketing", "analyst", "branch_manager", "ingest"):
        assert durable.client.get("/v1/audit", headers={"X-API-Key": f"dev-{role}-key"}).status_code == 403, role
    assert durable.client.get("/v1/audit").status_code == 401


def test_changes_are_on_the_trail(durable: Gateway, sqlite_store: SqliteAuditStore) -> None:
    admin = {"X-API-Key": "dev-admin-key"}
    durable.client.post("/v1/admin/clients", json={"client_id": "crm-z", "name": "z", "scopes": ["crm"]}, headers=admin)
    durable.client.post("/v1/admin/clients/crm-z/disable", headers=admin)
    durable.upstream.handler = lambda r: httpx.Response(202, json={"event_id": "ev-9"})
    outcome = {"offer_id": "o-1", "product": "credit_card", "outcome": "accepted"}
    assert durable.client.post(f"/v1/customers/{CPF}/outcomes", headers=admin, json=outcome).status_code == 202
    changes = [(r.action.value, r.resource, r.detail) for r in sqlite_store.scan()]
    assert changes == [
        ("change", "client", "registered crm-z (crm)"),
        ("change", "client", "disabled crm-z"),
        ("change", "outcome", "accepted o-1 (event ev-9)"),
    ]


class _BrokenStore(SqliteAuditStore):
    def append(self, entry: AuditEntry) -> NoReturn:
        raise sqlite3.OperationalError("disk I/O error")

    def append_many(self, entries: Sequence[AuditEntry]) -> NoReturn:
        raise sqlite3.OperationalError("disk I/O error")


def test_a_read_whose_record_cannot_be_stored_is_refused(gateway: Gateway, tmp_path: Path) -> None:
    app.state.audit = DurableAuditTrail(_BrokenStore(tmp_path / "broken.sqlite3"))
    gateway.upstream.handler = lambda r: httpx.Response(
        200,
        json={
            **DECISION,
            "offers": [
                {
                    "offer_id": "o-secret",
                    "product": "savings",
                    "channel": "email",
                    "propensity": 0.5,
                    "expected_value": 1.0,
                }
            ],
        },
    )
    response = gateway.client.get(f"/v1/customers/{CPF}/recommendations", headers={"X-API-Key": "dev-advisor-key"})
    assert response.status_code == 503 and response.headers["retry-after"]
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "o-secret" not in response.text


class _CountingStore(SqliteAuditStore):
    def __init__(self, path: Path) -> None:
        super().__init__(path, now=_Clock())
        self.batches: list[int] = []

    def append_many(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        self.batches.append(len(entries))
        return super().append_many(entries)


def test_concurrent_reads_are_group_committed_each_after_its_own_record(tmp_path: Path) -> None:
    """Records arriving while a batch is written share the next transaction; every caller returns only once
    its own record is stored, and the chain verifies as if they had been appended one by one."""
    store = _CountingStore(tmp_path / "group.sqlite3")
    trail = DurableAuditTrail(store)

    async def read_all() -> None:
        await asyncio.gather(*(trail.record(_entry(n)) for n in range(40)))

    asyncio.run(read_all())
    assert sum(store.batches) == 40 and len(store.batches) < 40  # the first alone, the rest batched
    records = list(store.scan())
    assert sorted(r.detail or "" for r in records) == sorted(f"n={n}" for n in range(40))
    assert verify_chain(records)[0] == 40
    store.close()


def test_a_failed_group_commit_refuses_every_read_in_it(tmp_path: Path) -> None:
    trail = DurableAuditTrail(_BrokenStore(tmp_path / "broken.sqlite3"))

    async def read_all() -> list[BaseException | None]:
        return await asyncio.gather(*(trail.record(_entry(n)) for n in range(5)), return_exceptions=True)

    outcomes = asyncio.run(read_all())
    assert all(isinstance(o, Problem) and o.status == 503 for o in outcomes), outcomes
