"""Consent registry endpoints and the data-subject erasure request."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.concurrency import run_in_threadpool

from ingest_openfinance.deps import ConsentsDep, DataSubjectDep
from ingest_openfinance.models import ConsentCreate, ConsentPublic, ConsentStatusChange, ErasurePublic
from prometeo.web import Problem

router = APIRouter(prefix="/v1", tags=["consents"])


@router.post("/consents", status_code=status.HTTP_201_CREATED)
async def grant_consent(body: ConsentCreate, consents: ConsentsDep) -> ConsentPublic:
    ck, record = await run_in_threadpool(consents.grant, body)
    return ConsentPublic(customer_key=ck, consent_id=record.consent_id, status=record.status)


@router.post("/consents/{consent_id}/status")
async def change_consent_status(consent_id: str, body: ConsentStatusChange, consents: ConsentsDep) -> ConsentPublic:
    changed = await run_in_threadpool(consents.change_status, consent_id, body.status, body.reason)
    if changed is None:
        raise Problem(404, "Consent not found", "no consent with this id is registered")
    ck, erased = changed
    return ConsentPublic(customer_key=ck, consent_id=consent_id, status=body.status, erasure_requested=erased)


@router.delete("/customers/{customer_id}", status_code=status.HTTP_202_ACCEPTED)
async def erase_customer(customer_id: str, data_subject: DataSubjectDep) -> ErasurePublic:
    """Data-subject request: every service erases what it derived about the customer."""
    ck = data_subject.pseudonymise(customer_id)
    event = await run_in_threadpool(data_subject.request_erasure, ck, "data_subject_request")
    return ErasurePublic(customer_key=ck, erasure_event_id=str(event.event_id))
