"""Durable, hash-chained audit storage: PostgreSQL when configured, an embedded SQLite file otherwise.

Appending reads the chain's head and inserts the next record in one transaction that holds the
chain's lock (SQLite `BEGIN IMMEDIATE`; PostgreSQL a transaction-scoped advisory lock), so replicas
writing to one database still build a single unbroken chain. Both are synchronous drivers: callers
run them in a thread.
"""

from __future__ import annotations

import abc
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.domain.audit import AuditEntry, AuditRecord, seal
from prometeo import clock

COLUMNS = (
    "seq",
    "at",
    "actor",
    "user_id",
    "client_id",
    "role",
    "action",
    "resource",
    "purpose",
    "customer_key",
    "result",
    "detail",
    "prev_hash",
    "hash",
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_records (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    user_id TEXT,
    client_id TEXT,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    resource TEXT NOT NULL,
    purpose TEXT,
    customer_key TEXT,
    result TEXT NOT NULL,
    detail TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
)
"""
_INDEXES = (
    "CREATE INDEX IF NOT EXISTS audit_records_customer ON audit_records (customer_key, seq)",
    "CREATE INDEX IF NOT EXISTS audit_records_actor ON audit_records (actor, seq)",
)
# Any constant: the advisory lock that serialises appends to the one chain.
_PG_CHAIN_LOCK = 0x70726F6D


@dataclass(frozen=True)
class AuditQuery:
    customer_key: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100


def _row(record: AuditRecord) -> tuple[Any, ...]:
    values = record.model_dump(mode="json")
    values["at"] = record.at.astimezone(UTC).isoformat()
    return tuple(values[c] for c in COLUMNS)


def _record(row: Any) -> AuditRecord:
    return AuditRecord.model_validate(dict(zip(COLUMNS, row, strict=True)))


def _where(query: AuditQuery, placeholder: str) -> tuple[str, list[Any]]:
    clauses, params = [], []
    for column, op, value in (
        ("customer_key", "=", query.customer_key),
        ("actor", "=", query.actor),
        ("at", ">=", query.since.astimezone(UTC).isoformat() if query.since else None),
        ("at", "<", query.until.astimezone(UTC).isoformat() if query.until else None),
    ):
        if value is not None:
            clauses.append(f"{column} {op} {placeholder}")
            params.append(value)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


class AuditStore(abc.ABC):
    @abc.abstractmethod
    def append(self, entry: AuditEntry) -> AuditRecord:
        """Seal and store the entry durably, or raise: the caller must then refuse what it audits."""

    def append_many(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        """Seal and store the entries, chained in this order, all durably or none (group commit: one
        transaction and one sync to disk for a whole batch). Raises if they cannot all be stored."""
        return [self.append(entry) for entry in entries]

    @abc.abstractmethod
    def query(self, query: AuditQuery) -> list[AuditRecord]: ...

    @abc.abstractmethod
    def scan(self) -> Iterator[AuditRecord]:
        """Every record in chain order (for verification)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


class SqliteAuditStore(AuditStore):
    """The embedded default: one file, WAL journal, fsync on commit (synchronous=FULL)."""

    def __init__(self, path: Path, now: Callable[[], datetime] = clock.now) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._now = now
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)
        for index in _INDEXES:
            self._db.execute(index)

    def append(self, entry: AuditEntry) -> AuditRecord:
        return self.append_many([entry])[0]

    def append_many(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        records: list[AuditRecord] = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                head = self._db.execute(
                    f"SELECT {', '.join(COLUMNS)} FROM audit_records ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                prev = _record(head) if head else None
                marks = ", ".join("?" for _ in COLUMNS)
                for entry in entries:
                    prev = seal(prev, entry, self._now())
                    records.append(prev)
                self._db.executemany(
                    f"INSERT INTO audit_records ({', '.join(COLUMNS)}) VALUES ({marks})", [_row(r) for r in records]
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return records

    def query(self, query: AuditQuery) -> list[AuditRecord]:
        where, params = _where(query, "?")
        sql = f"SELECT {', '.join(COLUMNS)} FROM audit_records{where} ORDER BY seq LIMIT ?"
        with self._lock:
            rows = self._db.execute(sql, [*params, query.limit]).fetchall()
        return [_record(r) for r in rows]

    def scan(self) -> Iterator[AuditRecord]:
        with self._lock:
            rows = self._db.execute(f"SELECT {', '.join(COLUMNS)} FROM audit_records ORDER BY seq").fetchall()
        return (_record(r) for r in rows)

    def close(self) -> None:
        with self._lock:
            self._db.close()


class PostgresAuditStore(AuditStore):
    def __init__(self, url: str, now: Callable[[], datetime] = clock.now) -> None:
        import psycopg

        self._psycopg = psycopg
        self._url = url
        self._now = now
        self._lock = threading.Lock()
        self._conn: Any = None
        with self._connection() as conn:
            conn.execute(_SCHEMA)
            for index in _INDEXES:
                conn.execute(index)

    def _connection(self) -> Any:
        if self._conn is None or self._conn.closed:
            self._conn = self._psycopg.connect(self._url, connect_timeout=3)
        return self._conn

    def _run(self, work: Callable[[Any], Any]) -> Any:
        with self._lock:
            try:
                with self._connection() as conn:  # commits on success, rolls back on error
                    return work(conn)
            except self._psycopg.OperationalError:
                self._conn = None  # reconnect next time
                raise

    def append(self, entry: AuditEntry) -> AuditRecord:
        return self.append_many([entry])[0]

    def append_many(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        def work(conn: Any) -> list[AuditRecord]:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_CHAIN_LOCK,))
            head = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM audit_records ORDER BY seq DESC LIMIT 1").fetchone()
            prev = _record(head) if head else None
            records = []
            for entry in entries:
                prev = seal(prev, entry, self._now())
                records.append(prev)
            marks = ", ".join("%s" for _ in COLUMNS)
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO audit_records ({', '.join(COLUMNS)}) VALUES ({marks})", [_row(r) for r in records]
                )
            return records

        result: list[AuditRecord] = self._run(work)
        return result

    def query(self, query: AuditQuery) -> list[AuditRecord]:
        where, params = _where(query, "%s")
        sql = f"SELECT {', '.join(COLUMNS)} FROM audit_records{where} ORDER BY seq LIMIT %s"
        rows = self._run(lambda conn: conn.execute(sql, [*params, query.limit]).fetchall())
        return [_record(r) for r in rows]

    def scan(self) -> Iterator[AuditRecord]:
        rows = self._run(
            lambda conn: conn.execute(f"SELECT {', '.join(COLUMNS)} FROM audit_records ORDER BY seq").fetchall()
        )
        return (_record(r) for r in rows)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()


def open_store(database_url: str | None, data_dir: Path) -> AuditStore:
    if database_url:
        return PostgresAuditStore(database_url)
    return SqliteAuditStore(data_dir / "audit.sqlite3")
