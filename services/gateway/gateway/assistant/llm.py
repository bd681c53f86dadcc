"""An OpenAI-compatible chat-completions endpoint the bank hosts (vLLM, Ollama, a cloud tenant) planning the
calls for free-form questions: first turn → tool calls, second turn (with the results) → the answer text.
The answer is held to the same grounding check as the offline engine's."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.assistant.domain.tools import CATALOGUE, Tool, ToolCall

ARGUMENTS = ("customer_id", "campaign_id")
PARAMETERS = ("lang", "product", "channel", "segment", "size")

SYSTEM = (
    "You are Prometeo's assistant for bank staff. Use only the tools to read data. Answer in the language of "
    "the question, briefly. State only numbers, dates, products and customers that appear in the tool results; "
    "if the results do not answer the question, say you do not know."
)


class LlmUnavailable(Exception):
    """The endpoint did not answer usably; the assistant falls back to 'I don't know'."""


@dataclass(frozen=True)
class LlmConfig:
    base_url: str
    model: str
    api_key: str | None
    timeout_s: float = 20.0


def tool_schemas(tools: list[Tool]) -> list[dict[str, Any]]:
    out = []
    for tool in tools:
        spec = CATALOGUE[tool]
        props: dict[str, Any] = {}
        required = []
        for name in ARGUMENTS:
            if "{" + name + "}" in spec.path:
                props[name] = {"type": "string"}
                required.append(name)
        for name in spec.params:
            props[name] = {"type": "string"}
        out.append(
            {
                "type": "function",
                "function": {
                    "name": tool.value,
                    "description": spec.description,
                    "parameters": {"type": "object", "properties": props, "required": required},
                },
            }
        )
    return out


def to_call(item: dict[str, Any], allowed: list[Tool]) -> ToolCall | None:
    """One of the model's tool calls, kept only when it names an allowed tool with the arguments it takes."""
    fn = item.get("function") or {}
    try:
        tool = Tool(str(fn.get("name")))
        raw = fn.get("arguments") or "{}"
        args = json.loads(raw) if isinstance(raw, str) else dict(raw)
    except (ValueError, TypeError):
        return None
    if tool not in allowed or not isinstance(args, dict):
        return None
    spec = CATALOGUE[tool]
    path_args = {k: str(args[k]) for k in ARGUMENTS if "{" + k + "}" in spec.path and args.get(k)}
    if len(path_args) != spec.path.count("{"):
        return None
    return ToolCall(tool, path_args, {k: str(args[k]) for k in spec.params if args.get(k) is not None})


class LlmPlanner:
    def __init__(self, config: LlmConfig, client: httpx.AsyncClient) -> None:
        self._config = config
        self._client = client

    async def _complete(self, messages: list[dict[str, Any]], tools: list[Tool]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._config.api_key}"} if self._config.api_key else {}
        body: dict[str, Any] = {"model": self._config.model, "messages": messages, "temperature": 0}
        if tools:
            body["tools"] = tool_schemas(tools)
            body["tool_choice"] = "auto"
        try:
            response = await self._client.post(
                self._config.base_url.rstrip("/") + "/chat/completions",
                json=body,
                headers=headers,
                timeout=self._config.timeout_s,
            )
            response.raise_for_status()
            message: dict[str, Any] = response.json()["choices"][0]["message"]
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
            raise LlmUnavailable(str(type(exc).__name__)) from exc
        return message

    async def plan(
        self, question: str, tools: list[Tool]
    ) -> tuple[list[dict[str, Any]], list[tuple[str, ToolCall | None]], str | None]:
        """The conversation so far, the model's calls by id (None = refused: unknown tool or arguments), its text."""
        messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
        message = await self._complete(messages, tools)
        messages.append({k: v for k, v in message.items() if k in ("role", "content", "tool_calls")})
        calls = [(str(item.get("id", "")), to_call(item, tools)) for item in message.get("tool_calls") or []]
        return messages, calls, message.get("content")

    async def answer(self, messages: list[dict[str, Any]], replies: list[tuple[str, dict[str, Any]]]) -> str:
        """The model's answer once it has read each call's reply (status and body)."""
        for call_id, reply in replies:
            messages.append({"role": "tool", "tool_call_id": call_id, "content": json.dumps(reply)})
        message = await self._complete(messages, [])
        return str(message.get("content") or "")
