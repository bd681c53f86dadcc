"""The assistant on its evaluation set (benchmarks/data/assistant_eval.json, from the demo bank): intent and
answer accuracy per language, ungrounded statements that left, and out-of-scope leaks. Targets: ≥ 95 % per
language, zero, zero. The calls are answered from the set's snapshot of the gateway's read routes.

    .venv/bin/python -m benchmarks.assistant"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services" / "gateway"))

from benchmarks.harness import Figure
from gateway.assistant.domain.grounding import check, claims_in
from gateway.assistant.domain.parser import parse
from gateway.assistant.domain.tools import CATALOGUE, Tool, ToolCall, ToolResult
from gateway.assistant.models import AnswerPublic, QuestionCreate
from gateway.assistant.service import Assistant
from gateway.domain.roles import Role
from prometeo.identity import customer_key
from prometeo_dev.assistant_eval import OUT, SnapshotTools


class ReplayTools:
    def __init__(self, tools: SnapshotTools) -> None:
        self._tools = tools

    async def run_all(self, calls: list[ToolCall]) -> list[ToolResult]:
        out = []
        for call in calls:
            status, body = self._tools.answer(call.tool.value, call.args, call.params)
            out.append(ToolResult(call, status, body))
        return out


def _args(path: str) -> tuple[dict[str, str], dict[str, str]]:
    """Path and query of a call as the answer reports it → the call's arguments and parameters."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    parts = urlsplit(path)
    segments = parts.path.split("/")
    args: dict[str, str] = {}
    for spec in CATALOGUE.values():
        template = spec.path.split("/")
        if len(template) == len(segments) and all(
            t.startswith("{") or t == s for t, s in zip(template, segments, strict=True)
        ):
            args = {t.strip("{}"): unquote(s) for t, s in zip(template, segments, strict=True) if t.startswith("{")}
    return args, dict(parse_qsl(parts.query))


def _right(q: dict[str, Any], a: AnswerPublic) -> bool:
    if a.status != q["status"] or (q["reason"] and a.reason != q["reason"]):
        return False
    if [c.tool for c in a.calls] != q["calls"]:
        return False
    text = a.text + ("\n" + a.draft.text if a.draft else "")
    claims = claims_in(text, a.lang)
    for fact in q["facts"]:
        ((kind, value),) = fact.items()
        if kind == "product" and not any(c.kind == "product" and c.value == value for c in claims):
            return False
        if kind in ("percent", "amount", "number") and not any(
            c.kind == kind and abs(float(c.value) - float(value)) <= max(c.tolerance, 0.006) for c in claims
        ):
            return False
    return True


def evaluate() -> dict[str, Any]:
    data = json.loads(OUT.read_text())
    snap, qs = data["snapshot"], data["questions"]
    secret = snap["secret"]
    per: dict[str, dict[str, int]] = {}
    ungrounded = leaks = blocked = 0
    wrong: list[str] = []
    for q in qs:
        tools = SnapshotTools(snap, q["role"], snap["portfolio"])
        assistant = Assistant(ReplayTools(tools), lambda cid: customer_key(cid, secret))
        answer = asyncio.run(assistant.ask(QuestionCreate(question=q["question"]), Role(q["role"])))
        stats = per.setdefault(q["lang"], {"n": 0, "intent": 0, "answer": 0})
        stats["n"] += 1
        stats["intent"] += parse(q["question"]).intent == q["intent"]
        ok = _right(q, answer)
        stats["answer"] += ok
        if not ok:
            wrong.append(f"{q['id']} {q['question']!r}: {answer.status}/{answer.reason} {answer.text[:160]!r}")
        if answer.status == "answered":
            # The answer that left, re-checked against the results of its own calls: zero ungrounded statements.
            replay = [ToolCall(Tool(c.tool), *_args(c.path)) for c in answer.calls]
            results = asyncio.run(ReplayTools(tools).run_all(replay))
            text = answer.text + ("\n" + answer.draft.text if answer.draft else "")
            ungrounded += len(check(text, answer.lang, results).ungrounded)
        if answer.status == "refused" and q["status"] == "refused":
            leaked = [
                c
                for c in claims_in(answer.text, answer.lang)
                if c.kind in ("number", "amount", "percent", "customer", "product")
            ]
            leaks += bool(leaked) or bool(answer.figures) or bool(answer.sources)
        blocked += len(answer.ungrounded) > 0
    return {"per_language": per, "ungrounded": ungrounded, "blocked": blocked, "leaks": leaks, "wrong": wrong}


def run() -> list[Figure]:
    result = evaluate()
    figures = []
    for lang, s in result["per_language"].items():
        figures.append(
            Figure(f"intent accuracy {lang} (n={s['n']})", 100 * s["intent"] / s["n"], "%", "target", 95.0, ">= 95 %")
        )
        figures.append(Figure(f"answer accuracy {lang}", 100 * s["answer"] / s["n"], "%", "target", 95.0, ">= 95 %"))
    figures.append(Figure("ungrounded statements sent", float(result["ungrounded"]), "claims", "target", 0.0, "0"))
    figures.append(
        Figure("answers blocked by the grounding check", float(result["blocked"]), "answers", "target", 0.0, "")
    )
    figures.append(Figure("out-of-scope leaks", float(result["leaks"]), "answers", "target", 0.0, "0"))
    return figures


if __name__ == "__main__":
    r = evaluate()
    for f in run():
        print(f.line())
    for w in r["wrong"]:
        print("  wrong:", w)
