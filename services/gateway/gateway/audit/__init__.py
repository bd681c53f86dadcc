"""The audit trail: every read and change of customer data, stored durably and hash-chained
(audit/store.py), and reads also published to audit.v1 (message key = the customer's key) for the
platform's consumers.

Fail closed: a read whose record cannot be stored is refused (503 + Retry-After); the data is never
disclosed without its record. The audit.v1 copy is best effort once the record is stored.
"""

from __future__ import annotations

import abc
import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.concurrency import run_in_threadpool

from gateway.audit.store import AuditQuery, AuditStore
from gateway.domain.audit import AuditAction, AuditedResource, AuditEntry, AuditRecord, AuditResult, ReadPurpose
from gateway.domain.credentials import Principal
from prometeo.bus import EventProducer
from prometeo.contracts import new_event, topics
from prometeo.contracts.events import CustomerDataReadV1
from prometeo.telemetry.metrics import AUDIT_READS, child
from prometeo.web import Problem

log = logging.getLogger(__name__)
SOURCE = "gateway"
RETRY_AFTER_S = "5"

__all__ = ["AuditTrail", "DurableAuditTrail", "GroupCommit", "KafkaAuditTrail", "entry_for"]


def entry_for(
    principal: Principal,
    action: AuditAction,
    resource: str,
    *,
    customer_key: str | None = None,
    purpose: str | None = None,
    result: AuditResult = AuditResult.OK,
    detail: str | None = None,
) -> AuditEntry:
    return AuditEntry(
        actor=principal.actor,
        user_id=principal.user_id,
        client_id=principal.client_id,
        role=principal.role.value,
        action=action,
        resource=resource,
        purpose=purpose,
        customer_key=customer_key,
        result=result,
        detail=detail,
    )


class AuditTrail(abc.ABC):
    @abc.abstractmethod
    async def record(self, entry: AuditEntry) -> None:
        """Store the entry, or raise Problem(503): what it records must then not happen."""

    async def record_read(
        self, principal: Principal, customer_key: str, resource: AuditedResource, purpose: ReadPurpose
    ) -> None:
        """Record the read, or raise: data is never disclosed without its audit record."""
        entry = entry_for(principal, AuditAction.READ, resource.value, customer_key=customer_key, purpose=purpose)
        await self.record(entry)

    async def query(self, query: AuditQuery) -> list[AuditRecord]:
        raise Problem(501, "Audit trail not queryable", "this trail keeps no queryable store")


def _unavailable(exc: BaseException) -> Problem:
    log.error("audit record not stored", extra={"error": type(exc).__name__})
    return Problem(
        503,
        "Audit unavailable",
        "the action cannot be audited right now; retry later",
        headers={"Retry-After": RETRY_AFTER_S},
    )


class KafkaAuditTrail(AuditTrail):
    """Publishes reads to audit.v1 (other actions have no event there)."""

    def __init__(self, producer: EventProducer) -> None:
        self._producer = producer

    async def record(self, entry: AuditEntry) -> None:
        if entry.action is not AuditAction.READ or entry.customer_key is None:
            return
        payload = CustomerDataReadV1(
            actor=entry.actor, role=entry.role, resource=entry.resource, purpose=entry.purpose or ""
        )
        event = new_event(payload, customer_key=entry.customer_key, source=SOURCE)
        try:
            if self._producer.sends_without_blocking(topics.AUDIT):
                # The topic's leaders are known: send() only appends to the producer's buffer.
                future: Any = self._producer.publish(topics.AUDIT, event)
            else:
                # send() would wait for broker metadata; keep that off the event loop.
                future = await run_in_threadpool(self._producer.publish, topics.AUDIT, event)
        except Exception as exc:
            raise _unavailable(exc) from exc
        future.add_errback(_log_failed_delivery)  # kafka-python future, not concurrent.futures
        child(AUDIT_READS, entry.resource).inc()


class GroupCommit:
    """Appends entries to the store in batches: the entries that arrive while one batch is being written
    (in a thread) form the next batch, one transaction and one sync to disk for all of them. Each caller
    still waits until *its* record is durable, and sees the batch's failure if it is not.

    Batches are written on the trail's own thread (the chain is appended one batch at a time anyway):
    anyio's `run_in_threadpool` (a capacity limiter, a cancel scope and a condition per call) was ~8 % of
    the gateway's event-loop samples per recommendation."""

    def __init__(self, store: AuditStore) -> None:
        self.store = store
        self._pending: list[tuple[AuditEntry, asyncio.Future[AuditRecord]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-writer")

    async def append(self, entry: AuditEntry) -> AuditRecord:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[AuditRecord] = loop.create_future()
        self._pending.append((entry, done))
        if self._writer is None or self._writer.done() or self._writer.get_loop() is not loop:
            self._writer = loop.create_task(self._write(), name="audit-group-commit")
        # Shielded: a caller that goes away does not cancel the batch its entry is part of.
        return await asyncio.shield(done)

    async def _write(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                entries = [entry for entry, _ in batch]
                records = await asyncio.get_running_loop().run_in_executor(
                    self._thread, self.store.append_many, entries
                )
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (_, done), stored in zip(batch, records, strict=True):
                if not done.done():
                    done.set_result(stored)


class DurableAuditTrail(AuditTrail):
    """The store first (the record that counts), then the audit.v1 copy (logged if it fails)."""

    def __init__(self, store: AuditStore, events: KafkaAuditTrail | None = None) -> None:
        self.store = store
        self._events = events
        self._commits = GroupCommit(store)

    async def record(self, entry: AuditEntry) -> None:
        try:
            await self._commits.append(entry)
        except Exception as exc:
            raise _unavailable(exc) from exc
        if self._events is not None:
            try:
                await self._events.record(entry)
            except Problem:
                log.warning("audit.v1 copy not published; the stored record stands", extra={"resource": entry.resource})

    async def query(self, query: AuditQuery) -> list[AuditRecord]:
        try:
            records: list[AuditRecord] = await run_in_threadpool(self.store.query, query)
        except Exception as exc:
            raise _unavailable(exc) from exc
        return records


def _log_failed_delivery(exc: BaseException) -> None:
    log.error("audit event not acknowledged by the broker", extra={"error": repr(exc)})
