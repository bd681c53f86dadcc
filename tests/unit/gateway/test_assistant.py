"""The assistant: the parser over the whole evaluation set, the grounding check, scope refusals, and the
OpenAI-compatible planner against a local fake server speaking the protocol (uvicorn on a free port)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.assistant.domain.grounding import check
from gateway.assistant.domain.parser import parse
from gateway.assistant.domain.tools import Tool, ToolCall, ToolResult
from gateway.assistant.llm import LlmConfig, LlmPlanner
from gateway.assistant.models import QuestionCreate
from gateway.assistant.service import Assistant
from gateway.domain.roles import Role
from prometeo.identity import customer_key
from prometeo_dev.assistant_eval import OUT, SnapshotTools
from tests.fake_chat_completions import chat_completions_server

DATA = json.loads(OUT.read_text())
SNAP = DATA["snapshot"]


class Replay:
    def __init__(self, role: str) -> None:
        self.tools = SnapshotTools(SNAP, role, SNAP["portfolio"])
        self.calls: list[ToolCall] = []

    async def run_all(self, calls: list[ToolCall]) -> list[ToolResult]:
        self.calls += calls
        return [ToolResult(c, *self.tools.answer(c.tool.value, c.args, c.params)) for c in calls]


def _assistant(role: str, llm: LlmPlanner | None = None) -> Assistant:
    return Assistant(Replay(role), lambda cid: customer_key(cid, SNAP["secret"]), llm)


def _mine() -> tuple[str, dict[str, Any]]:
    return next((ck, c) for ck, c in SNAP["customers"].items() if c["advisor_id"] == SNAP["portfolio"])


@pytest.mark.parametrize("lang", ["es", "pt-BR", "en"])
def test_the_parser_finds_the_intent_of_95_percent_of_the_evaluation_set_per_language(lang: str) -> None:
    qs = [q for q in DATA["questions"] if q["lang"] == lang]
    assert len(qs) >= 40
    right = sum(parse(q["question"]).intent == q["intent"] for q in qs)
    assert right / len(qs) >= 0.95, [q["question"] for q in qs if parse(q["question"]).intent != q["intent"]]


def test_the_grounding_check_blocks_a_planted_wrong_number() -> None:
    ck, c = _mine()
    call = ToolCall(Tool.RECOMMENDATIONS, {"customer_id": ck}, {"lang": "es"})
    results = [ToolResult(call, 200, c["recommendations"])]
    best = c["recommendations"]["recommendations"][0]
    right = f"La mejor oferta es tarjeta de crédito, propensión {best['propensity'] * 100:.1f} %".replace(".", ",")
    assert not [u for u in check(right, "es", results).ungrounded if u.kind == "percent"]
    planted = check("La mejor oferta tiene propensión 99,7 % y valor esperado R$ 12.345,67.", "es", results)
    assert {u.kind for u in planted.ungrounded} == {"percent", "amount"}
    assert check(f"{ck[:11]}… nació el 01/02/1990.", "es", results).ungrounded[0].kind == "date"


def test_an_answer_is_grounded_and_names_its_calls_and_sources() -> None:
    ck, c = _mine()
    answer = asyncio.run(
        _assistant("advisor").ask(QuestionCreate(question=f"¿Qué le ofrezco a {c['customer_id']}?"), Role.ADVISOR)
    )
    assert answer.status == "answered" and answer.lang == "es"
    assert [x.path for x in answer.calls] == [f"/v1/customers/{ck}/recommendations?lang=es"]  # the key, never the CPF
    assert answer.sources[0].console_path == f"/customers/{ck}"
    assert c["customer_id"] not in answer.model_dump_json()


def test_an_advisor_asking_about_a_customer_outside_the_portfolio_is_refused_without_a_leak() -> None:
    outside = next(c for c in SNAP["customers"].values() if c["advisor_id"] != SNAP["portfolio"])
    answer = asyncio.run(
        _assistant("advisor").ask(
            QuestionCreate(question=f"What should I offer {outside['customer_id']}?"), Role.ADVISOR
        )
    )
    assert (answer.status, answer.reason) == ("refused", "scope")
    assert "portfolio" in answer.text and not answer.figures and not answer.sources and answer.draft is None


def test_a_draft_leaves_sensitive_reasons_out_and_carries_the_opt_out_line() -> None:
    _, c = _mine()
    offer = c["recommendations"]["recommendations"][0]
    offer["reasons"] = [{"code": "health_spend", "text": "gastos en salud"}, *offer["reasons"]]
    try:
        answer = asyncio.run(
            _assistant("advisor").ask(
                QuestionCreate(question=f"Escreva uma mensagem para {c['customer_id']}"), Role.ADVISOR
            )
        )
    finally:
        offer["reasons"] = offer["reasons"][1:]
    assert answer.status == "answered" and answer.draft is not None
    assert "health_spend" in answer.draft.reasons_left_out and "saúde" not in answer.draft.text.lower()
    assert "SAIR" in answer.draft.text and answer.draft.requires_approval


# ---- the OpenAI-compatible planner against a fake server --------------------------------------------


@pytest.fixture(scope="module")
def llm_url() -> Iterator[str]:
    with chat_completions_server() as (url, _):
        yield url


def _ask_llm(url: str, question: str) -> Any:
    async def go() -> Any:
        async with httpx.AsyncClient() as client:
            planner = LlmPlanner(LlmConfig(url, "fake", "k"), client)
            return await _assistant("marketing", planner).ask(
                QuestionCreate(question=question, engine="llm"), Role.MARKETING
            )

    return asyncio.run(go())


def test_the_llm_path_answers_grounded_and_refuses_an_invented_number(llm_url: str) -> None:
    good = _ask_llm(llm_url, "grounded: how are acceptances going?")
    assert (good.status, good.engine) == ("answered", "llm")
    assert [c.tool for c in good.calls] == ["kpis"] and good.sources[0].api_path == "/v1/kpis"
    bad = _ask_llm(llm_url, "invent: how are acceptances going?")
    assert (bad.status, bad.reason) == ("refused", "ungrounded")
    assert "%" not in bad.text and bad.ungrounded == ["percent"]


@pytest.mark.parametrize(
    ("question", "products"),
    [
        ("¿Le ofrezco tarjeta?", ("credit_card",)),
        ("ofereço um cartão de crédito?", ("credit_card",)),
        ("crédito de auto o seguro de vida", ("auto_loan", "life_insurance")),
        ("una tarjta de crédito", ("credit_card",)),
        ("emprestimo pesoal", ("personal_loan",)),
        ("a car loan or a mortgage", ("auto_loan", "mortgage")),
    ],
)
def test_products_and_their_synonyms_are_found_misspelt_or_not(question: str, products: tuple[str, ...]) -> None:
    assert parse(question).entities.products == products


def test_periods_amounts_channels_and_segments_are_read() -> None:
    question = "tasa de aceptación por whatsapp de los activados en los últimos 90 días con saldo mayor a 10.000"
    e = parse(question).entities
    assert (e.period and e.period.kind, e.period and e.period.days) == ("last_n_days", 90)
    assert e.amounts[0].op == "gt" and e.amounts[0].value == 10_000
    assert (e.channels, e.segments, e.metrics) == (("whatsapp",), ("activated",), ("acceptance_rate",))
    assert parse("revenue this month over $1,500").entities.amounts[0].value == 1_500
    assert parse("receita este mês").entities.period.kind == "this_month"  # type: ignore[union-attr]
