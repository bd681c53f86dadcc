"""One question, start to answer: parse → plan → call the gateway as the asking person → compose →
ground. An answer whose statements are not all found in the calls' results is never returned."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any, Literal, Protocol

from gateway.assistant.domain.compose import Composed, compose, missing_text, refusal_text
from gateway.assistant.domain.grounding import check
from gateway.assistant.domain.lexicon import Lang, normalize
from gateway.assistant.domain.parser import ParsedQuestion, detect_language, parse
from gateway.assistant.domain.planner import (
    Missing,
    MissingReason,
    Plan,
    Refusal,
    RefusalReason,
    capabilities,
    plan,
)
from gateway.assistant.domain.tools import ToolCall, ToolResult
from gateway.assistant.llm import LlmPlanner, LlmUnavailable
from gateway.assistant.models import (
    AnswerPublic,
    CallPublic,
    DraftPublic,
    FigurePublic,
    QuestionCreate,
    SourcePublic,
)
from gateway.domain.roles import Role

log = logging.getLogger(__name__)


class Tools(Protocol):
    async def run_all(self, calls: list[ToolCall]) -> list[ToolResult]: ...


def _calls(results: list[ToolResult]) -> list[CallPublic]:
    return [
        CallPublic(tool=r.call.tool.value, method=r.call.spec.method, path=r.call.url_path, status=r.status)
        for r in results
    ]


def _sources(results: list[ToolResult]) -> list[SourcePublic]:
    out = []
    for r in results:
        if r.ok:
            console = r.call.console_path
            out.append(SourcePublic(api_path=r.call.url_path, console_path=console))
    return out


def _refused(
    lang: Lang, intent: str, engine: Literal["rules", "llm"], role: Role, refusal: Refusal, results: list[ToolResult]
) -> AnswerPublic:
    # The calls are named (the person may see what was tried), their bodies never are.
    return AnswerPublic(
        status="refused",
        lang=lang,
        intent=intent,
        engine=engine,
        text=refusal_text(refusal.reason, lang, role, refusal.tool),
        reason=refusal.reason.value,
        calls=_calls(results),
    )


def _unknown(
    lang: Lang,
    intent: str,
    engine: Literal["rules", "llm"],
    role: Role,
    reason: MissingReason,
    results: list[ToolResult],
) -> AnswerPublic:
    return AnswerPublic(
        status="unknown",
        lang=lang,
        intent=intent,
        engine=engine,
        text=missing_text(reason, lang, capabilities(role)),
        reason=reason.value,
        calls=_calls(results),
        sources=_sources(results),
    )


def _failed_call(results: list[ToolResult]) -> Refusal | Missing | None:
    """Any refused call refuses the whole answer (no partial leak); a call that did not answer leaves it unknown."""
    for r in results:
        if r.status == 404 and "customer_id" in r.call.args:
            return Refusal(RefusalReason.SCOPE, r.call.tool)
        if r.status in (401, 403):
            return Refusal(RefusalReason.ROLE, r.call.tool)
    if any(not r.ok for r in results):
        return Missing(MissingReason.NO_TOOL)
    return None


class Assistant:
    def __init__(self, tools: Tools, pseudonymise: Callable[[str], str], llm: LlmPlanner | None = None) -> None:
        self._tools = tools
        self._pseudonymise = pseudonymise
        self._llm = llm

    def _keyed(self, call: ToolCall) -> ToolCall:
        """Customers travel by their pseudonymous key, so no raw id reaches a path, a log or the answer."""
        if "customer_id" not in call.args:
            return call
        try:
            key = self._pseudonymise(call.args["customer_id"])
        except ValueError:
            return call  # the gateway answers 422 for it, as for any client
        return dataclasses.replace(call, args={**call.args, "customer_id": key})

    async def ask(self, question: QuestionCreate, role: Role) -> AnswerPublic:
        parsed = parse(question.question, question.lang)
        use_llm = self._llm is not None and (
            question.engine == "llm" or (question.engine == "auto" and parsed.intent == "unknown")
        )
        if use_llm and parsed.intent not in ("sensitive", "bulk_personal_data"):
            return await self._ask_llm(question, parsed, role)
        return await self._ask_rules(question, parsed, role)

    async def _ask_rules(self, question: QuestionCreate, parsed: ParsedQuestion, role: Role) -> AnswerPublic:
        lang = parsed.lang
        outcome = plan(parsed, role, question.customer_id, question.campaign_id)
        if isinstance(outcome, Refusal):
            return _refused(lang, parsed.intent, "rules", role, outcome, [])
        if isinstance(outcome, Missing):
            return _unknown(lang, parsed.intent, "rules", role, outcome.reason, [])
        assert isinstance(outcome, Plan)
        results = await self._tools.run_all([self._keyed(c) for c in outcome.calls])
        failed = _failed_call(results)
        if isinstance(failed, Refusal):
            return _refused(lang, parsed.intent, "rules", role, failed, results)
        if isinstance(failed, Missing):
            return _unknown(lang, parsed.intent, "rules", role, failed.reason, results)
        composed = compose(parsed, results)
        if isinstance(composed, MissingReason):
            return _unknown(lang, parsed.intent, "rules", role, composed, results)
        return self._grounded(lang, parsed.intent, "rules", role, composed, results)

    def _grounded(
        self,
        lang: Lang,
        intent: str,
        engine: Literal["rules", "llm"],
        role: Role,
        composed: Composed,
        results: list[ToolResult],
    ) -> AnswerPublic:
        text = composed.text + ("\n" + composed.draft.text if composed.draft else "")
        report = check(text, lang, results)
        if not report.grounded:
            log.warning(
                "assistant answer refused: ungrounded",
                extra={"intent": intent, "engine": engine, "claims": len(report.ungrounded)},
            )
            answer = _refused(lang, intent, engine, role, Refusal(RefusalReason.UNGROUNDED), results)
            answer.ungrounded = [c.kind for c in report.ungrounded]
            return answer
        draft = composed.draft
        return AnswerPublic(
            status="answered",
            lang=lang,
            intent=intent,
            engine=engine,
            text=composed.text,
            figures=[FigurePublic(label=f.label, value=f.value, source=f.source) for f in composed.figures],
            calls=_calls(results),
            sources=_sources(results),
            draft=DraftPublic(
                lang=draft.lang,
                product=draft.product,
                channel=draft.channel,
                text=draft.text,
                reasons_used=list(draft.reasons_used),
                reasons_left_out=list(draft.reasons_left_out),
            )
            if draft
            else None,
        )

    async def _ask_llm(self, question: QuestionCreate, parsed: ParsedQuestion, role: Role) -> AnswerPublic:
        assert self._llm is not None
        lang: Lang = question.lang or detect_language(normalize(question.question).split())
        allowed = capabilities(role)
        try:
            messages, planned, content = await self._llm.plan(question.question, allowed)
            calls = [self._keyed(c) for _, c in planned if c is not None]
            results = await self._tools.run_all(calls) if calls else []
            failed = _failed_call(results)
            if isinstance(failed, Refusal):
                return _refused(lang, "llm", "llm", role, failed, results)
            if not planned:
                text = content or ""
            else:
                replies: list[tuple[str, dict[str, Any]]] = []
                by_call = iter(results)
                for call_id, call in planned:
                    if call is None:
                        replies.append((call_id, {"status": 400, "error": "unknown tool or arguments"}))
                    else:
                        r = next(by_call)
                        replies.append((call_id, {"status": r.status, "body": r.body}))
                text = await self._llm.answer(messages, replies)
        except LlmUnavailable:
            return _unknown(lang, "llm", "llm", role, MissingReason.NO_TOOL, [])
        if not text.strip():
            return _unknown(lang, "llm", "llm", role, MissingReason.NO_TOOL, results)
        return self._grounded(lang, "llm", "llm", role, Composed(text), results)
