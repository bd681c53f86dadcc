"""Audit trail of customer-data reads on audit.v1 (message key = the customer's pseudonymous key)."""

from __future__ import annotations

import abc
import logging
from typing import Any

from starlette.concurrency import run_in_threadpool

from gateway.domain.audit import AuditedResource, ReadPurpose
from gateway.domain.credentials import Principal
from prometeo.bus import EventProducer
from prometeo.contracts import new_event, topics
from prometeo.contracts.events import CustomerDataReadV1
from prometeo.telemetry.metrics import AUDIT_READS
from prometeo.web import Problem

log = logging.getLogger(__name__)
SOURCE = "gateway"


class AuditTrail(abc.ABC):
    @abc.abstractmethod
    async def record_read(
        self, principal: Principal, customer_key: str, resource: AuditedResource, purpose: ReadPurpose
    ) -> None:
        """Record the read, or raise: data is never disclosed without its audit record."""


class KafkaAuditTrail(AuditTrail):
    def __init__(self, producer: EventProducer) -> None:
        self._producer = producer

    async def record_read(
        self, principal: Principal, customer_key: str, resource: AuditedResource, purpose: ReadPurpose
    ) -> None:
        payload = CustomerDataReadV1(
            actor=principal.actor, role=principal.role.value, resource=resource.value, purpose=purpose.value
        )
        event = new_event(payload, customer_key=customer_key, source=SOURCE)
        try:
            # send() can block on broker metadata; keep it off the event loop.
            future: Any = await run_in_threadpool(self._producer.publish, topics.AUDIT, event)
        except Exception as exc:
            log.error("audit publish refused", extra={"error": type(exc).__name__, "resource": resource.value})
            raise Problem(503, "Audit unavailable", "the read cannot be audited right now; retry later") from exc
        future.add_errback(_log_failed_delivery)  # kafka-python future, not concurrent.futures
        AUDIT_READS.labels(resource.value).inc()


def _log_failed_delivery(exc: BaseException) -> None:
    log.error("audit event not acknowledged by the broker", extra={"error": repr(exc)})
