"""The assistant panel (advisor and marketing pages): a question → the gateway's POST /v1/assistant/questions
with the person's token → the answer with its figures, its sources as links and, for advisors, a message
draft to edit (nothing is sent from here)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.deps import GatewayDep, LocaleDep, SessionDep
from console.pages.forms import first, form_fields
from console.render import is_htmx, render
from prometeo.web import Problem

router = APIRouter()


@router.post("/assistant")
async def ask(request: Request, session: SessionDep, gateway: GatewayDep, locale: LocaleDep) -> Response:
    fields = await form_fields(request)
    question = first(fields, "question")
    if not question or len(question) > 500:
        raise Problem(422, "Question required", "ask in up to 500 characters", field="question")
    body: dict[str, str] = {"question": question}
    if customer := first(fields, "customer_id"):
        body["customer_id"] = customer
    answer = await gateway.post(session.token, "/v1/assistant/questions", body)
    template = "_parts/assistant_answer.html" if is_htmx(request) else "assistant.html"
    return render(request, template, locale, session, answer=answer, question=question)
