"""Data-subject rights: portability (export of what ingest holds) and erasure across the platform.

The identifier travels in the body, not the URL, so it never lands in access logs.
"""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.concurrency import run_in_threadpool

from ingest_openfinance.deps import DataSubjectDep
from ingest_openfinance.models import (
    CustomerExportPublic,
    CustomerRef,
    DataSubjectEventPublic,
    ErasurePublic,
    ObjectionCreate,
    RectificationCreate,
)
from ingest_openfinance.usecases.data_subject import NothingToRectify
from prometeo.contracts import topics
from prometeo.web import Problem

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


@router.post("/customers:rectify", status_code=status.HTTP_202_ACCEPTED)
async def rectify_customer(body: RectificationCreate, data_subject: DataSubjectDep) -> DataSubjectEventPublic:
    """Rectification (LGPD art. 18 III, ARCO): the corrected profile fields reach every service."""
    try:
        event = await run_in_threadpool(data_subject.rectify, body)
    except NothingToRectify as exc:
        raise Problem(422, "Nothing to rectify", str(exc)) from None
    return DataSubjectEventPublic(
        customer_key=event.customer_key, event_id=str(event.event_id), topic=topics.ACCOUNT_EVENTS
    )


@router.post("/customers:object", status_code=status.HTTP_202_ACCEPTED)
async def object_to_profiling(body: ObjectionCreate, data_subject: DataSubjectDep) -> DataSubjectEventPublic:
    """Opposition to profiling: no features, scores or offers for the customer while it stands."""
    event = await run_in_threadpool(data_subject.object_to_profiling, body)
    return DataSubjectEventPublic(
        customer_key=event.customer_key, event_id=str(event.event_id), topic=topics.CONSENT_EVENTS
    )
