"""HTTP models of the assistant route."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from gateway.assistant.domain.lexicon import Lang

AnswerStatus = Literal["answered", "refused", "unknown"]
Engine = Literal["auto", "rules", "llm"]


class QuestionCreate(BaseModel):
    question: str = Field(min_length=1, max_length=500, examples=["¿Qué producto debería ofrecerle a 123.456.789-09?"])
    lang: Lang | None = Field(None, description="Answer language; default: the question's")
    customer_id: str | None = Field(None, max_length=64, description="The customer on screen (console), if any")
    campaign_id: str | None = Field(None, max_length=64, description="The campaign on screen, if any")
    engine: Engine = Field("auto", description="rules (offline parser), llm (configured endpoint) or auto")


class CallPublic(BaseModel):
    tool: str
    method: str
    path: str  # as called, query included; customers by their pseudonymous key
    status: int


class SourcePublic(BaseModel):
    api_path: str
    console_path: str | None = None


class FigurePublic(BaseModel):
    label: str
    value: str
    source: str


class DraftPublic(BaseModel):
    """A message for the advisor to edit and approve; the assistant sends nothing."""

    lang: Lang
    product: str
    channel: str
    text: str
    reasons_used: list[str]
    reasons_left_out: list[str]
    status: Literal["draft"] = "draft"
    requires_approval: Literal[True] = True


class AnswerPublic(BaseModel):
    status: AnswerStatus
    lang: Lang
    intent: str
    engine: Literal["rules", "llm"]
    text: str
    reason: str | None = None  # why refused or unknown (a RefusalReason or MissingReason value)
    figures: list[FigurePublic] = []
    calls: list[CallPublic] = []
    sources: list[SourcePublic] = []
    draft: DraftPublic | None = None
    ungrounded: list[str] = []  # what a refused answer stated without support (never the answer itself)
