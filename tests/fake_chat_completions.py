"""A local server speaking the OpenAI chat-completions protocol, for the assistant's LLM path: the first turn
plans one `kpis` tool call; the second writes the acceptance rate it read — right when the question says
"grounded", 7.3 points off otherwise (the invented figure the grounding check must refuse)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI, Request

from tests.bus_helpers import scaled, wait_until


def _app(seen: list[dict[str, Any]]) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def complete(request: Request) -> dict[str, Any]:
        body = await request.json()
        seen.append(body)
        messages = body["messages"]
        question = messages[1]["content"]
        if messages[-1]["role"] == "user":
            call = {"id": "call-1", "type": "function", "function": {"name": "kpis", "arguments": "{}"}}
            return {"choices": [{"message": {"role": "assistant", "content": None, "tool_calls": [call]}}]}
        kpis = json.loads(messages[-1]["content"])["body"]
        rate = kpis["acceptance_rate"] * 100
        stated = rate if "grounded" in question else rate + 7.3
        return {"choices": [{"message": {"role": "assistant", "content": f"The acceptance rate is {stated:.1f}%."}}]}

    return app


@contextlib.contextmanager
def chat_completions_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(base URL ending in /v1, the request bodies it received)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    seen: list[dict[str, Any]] = []
    server = uvicorn.Server(uvicorn.Config(_app(seen), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="fake-llm", daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=10, interval=0.02)
    try:
        yield f"http://127.0.0.1:{port}/v1", seen
    finally:
        server.should_exit = True
        thread.join(scaled(5))
