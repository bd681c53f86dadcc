"""Data-subject rights: portability (export of what ingest holds) and erasure across the platform.

The identifier travels in the body, not the URL, so it never lands in access logs.
"""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.concurrency import run_in_threadpool

from ingest_openfinance.deps import DataSubjectDep
from ingest_openfinance.models import CustomerExportPublic, CustomerRef, ErasurePublic

router = APIRouter(prefix="/v1", tags=["data-subject"])


@router.post("/customers:export")
async def export_customer(body: CustomerRef, data_subject: DataSubjectDep) -> CustomerExportPublic:
    """Everything ingest holds about the customer (LGPD art. 18 V): consents and marketing permissions."""
    return await run_in_threadpool(data_subject.export, body.customer_id)


@router.post("/customers:erase", status_code=status.HTTP_202_ACCEPTED)
async def erase_customer_by_body(body: CustomerRef, data_subject: DataSubjectDep) -> ErasurePublic:
    """Erasure on request (LGPD art. 18 VI): every service deletes what it derived about the customer."""
    ck = data_subject.pseudonymise(body.customer_id)
    event = await run_in_threadpool(data_subject.request_erasure, ck, "data_subject_request")
    return ErasurePublic(customer_key=ck, erasure_event_id=str(event.event_id))
