"""The assistant for CRMs and the console: a question in plain words → an answer from the platform's own
read operations, with the calls made, the figures quoted and the records they came from."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Request

from gateway.assistant.domain.tools import CATALOGUE
from gateway.assistant.llm import LlmConfig, LlmPlanner
from gateway.assistant.models import AnswerPublic, QuestionCreate
from gateway.assistant.service import Assistant
from gateway.assistant.tools import GatewayTools, forwarded, self_client
from gateway.deps import SettingsDep
from gateway.domain.credentials import Principal
from gateway.domain.identifiers import to_customer_key
from gateway.security import require_any

router = APIRouter(prefix="/v1/assistant", tags=["assistant"])

# Anyone who may call at least one of the assistant's tools may ask; each call is checked on its own route.
AssistantUser = Annotated[Principal, Depends(require_any(*{spec.permission for spec in CATALOGUE.values()}))]


@router.post("/questions", response_model=AnswerPublic)
async def ask(
    body: QuestionCreate,
    request: Request,
    principal: AssistantUser,
    settings: SettingsDep,
) -> AnswerPublic:
    """Answers from calls made with the caller's own credentials through this gateway, so role, scope, the
    insider guard, field visibility and audit apply to each of them unchanged. Every number, amount, date,
    product and customer the answer states was returned by one of those calls; an answer that fails that
    check is replaced by a refusal (`status: refused`, `reason: ungrounded`). Nothing is sent to a customer:
    message drafts come back for the advisor to edit and approve."""
    secret = settings.pseudonym_key.get_secret_value()
    async with self_client(request.app, settings.assistant_self_url, settings.assistant_call_timeout_s) as client:
        tools = GatewayTools(client, forwarded(dict(request.headers)))
        llm = None
        if settings.assistant_llm_base_url:
            key = settings.assistant_llm_api_key.get_secret_value() if settings.assistant_llm_api_key else None
            config = LlmConfig(
                settings.assistant_llm_base_url, settings.assistant_llm_model, key, settings.assistant_llm_timeout_s
            )
            llm_client = httpx.AsyncClient()
            llm = LlmPlanner(config, llm_client)
        try:
            return await Assistant(tools, lambda cid: to_customer_key(cid, secret), llm).ask(body, principal.role)
        finally:
            if llm is not None:
                await llm_client.aclose()
