"""Data-subject rights over what ingest holds: portability (export). Erasure is `DELETE /v1/customers/{id}`.

The identifier travels in the body, not the URL, so it never lands in access logs.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from ingest_openfinance.deps import IngestorDep
from ingest_openfinance.models import CustomerExportPublic, CustomerRef

router = APIRouter(prefix="/v1", tags=["data-subject"])


@router.post("/customers:export")
async def export_customer(body: CustomerRef, ingestor: IngestorDep) -> CustomerExportPublic:
    """Everything ingest holds about the customer (LGPD art. 18 V): consents and marketing permissions."""
    return await run_in_threadpool(ingestor.export, body.customer_id)
