"""gateway.hop writes the request httpx would have written (line, headers, body, service token, trace
context), over the keep-alive transport against a real loopback server, and fails as httpx fails."""

from __future__ import annotations

import asyncio
import gzip
from typing import Any

import httpx
import jwt
import pytest
from opentelemetry import context as otel_context
from opentelemetry import propagate

from gateway.hop import Hop
from gateway.transport import KeepAliveTransport
from prometeo.service_tokens import ServiceKeys, ServiceTokenAuth
from prometeo.telemetry.tracing import configure_tracing
from tests.unit.gateway.test_transport import _ok, _serve

KEYS = ServiceKeys("k" * 32)
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"

# (method, path, keyword arguments of the call)
CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/v1/kpis", {}),
    ("POST", "/v1/nba/ck_0123abcd/presentations", {"params": {"lang": "es", "presented_to": "adv-sp-01"}}),
    ("POST", "/v1/campaigns/c-1/pause", {}),
    ("PUT", "/v1/levers/mortgage", {"json": {"lever": 0.5, "reason": "Campaña de otoño", "nan_free": [1, None]}}),
    ("DELETE", "/v1/levers/mortgage", {"json": {"actor": "a"}}),
    ("POST", "/v1/events:batch", {"content": b'{"raw": 1}', "headers": {"Content-Type": "application/json"}}),
    ("POST", "/v1/webhooks/belvo", {"content": b"", "headers": {"X-Customer-Id": "ck_1", "Accept": "text/plain"}}),
    ("GET", "/v1/kpis/product/credit%20card/customers", {"params": {"page": "1", "size": "50"}}),
    ("GET", "/v1/campaigns/a b/é", {}),  # httpx percent-escapes the path
    ("GET", "/v1/campaigns/../admin", {}),  # and removes dot segments
    ("GET", "/v1/kpis/series", {"params": {"days": "x y/é+&~*"}}),
    ("GET", "/v1/kpis?fixed=1", {"params": {"days": "7"}}),  # a query of the path's own, merged
    ("GET", "/v1/kpis?fixed=1", {}),
    # The caller's own body headers win over the ones the body implies, as in httpx.
    ("PATCH", "/v1/levers/x", {"json": {"a": 1}, "headers": {"Content-Type": "application/merge-patch+json"}}),
    ("POST", "/v1/x", {"headers": {"Content-Length": "0", "Host": "campaigns.internal"}}),
]


def _parse(raw: bytes) -> tuple[bytes, dict[bytes, bytes], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    line, *lines = head.split(b"\r\n")
    headers = {}
    for item in lines:
        name, _, value = item.partition(b":")
        headers[name.strip().lower()] = value.strip()
    return line, headers, body


def _auth(base: str) -> ServiceTokenAuth:
    return ServiceTokenAuth(KEYS, "gateway", {base: "campaigns"})


def test_the_request_is_the_one_httpx_writes() -> None:
    configure_tracing("gateway")  # as the service does: spans (unrecorded without an exporter) get their own ids

    async def scenario() -> None:
        seen: list[bytes] = []

        async def answer(request: bytes) -> bytes:
            seen.append(request)
            return _ok(b"{}")

        server, _ = await _serve(answer)
        base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        transport = KeepAliveTransport()
        async with server, httpx.AsyncClient(transport=transport, auth=_auth(base), timeout=5) as client:
            hop = Hop(client, transport)
            token = otel_context.attach(propagate.extract({"traceparent": f"00-{TRACE_ID}-{CALLER_SPAN}-01"}))
            try:
                for method, path, kwargs in CALLS:
                    await client.request(method, base + path, **kwargs)
                    ours = await hop.send(method, base, path, **kwargs)
                    assert ours.status_code == 200 and ours.content == b"{}"
                    (line_a, headers_a, body_a), (line_b, headers_b, body_b) = _parse(seen[-2]), _parse(seen[-1])
                    assert (line_b, body_b) == (line_a, body_a), path
                    # The caller's trace, continued by a client span of the gateway's own.
                    _, trace_id, parent, _ = headers_b.pop(b"traceparent").decode().split("-")
                    assert (trace_id, parent != CALLER_SPAN) == (TRACE_ID, True)
                    assert headers_b == headers_a, path  # same token too: cached by audience
            finally:
                otel_context.detach(token)

    asyncio.run(scenario())


def test_a_compressed_answer_is_decoded_and_failures_are_httpx_errors() -> None:
    async def scenario() -> None:
        answers = iter([_ok(gzip.compress(b'{"ok":1}'), b"content-encoding: gzip\r\n"), None])

        async def answer(_: bytes) -> bytes | None:
            item = next(answers)
            if item is None:
                await asyncio.Event().wait()  # never answers
            return item

        server, _ = await _serve(answer)
        base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        transport = KeepAliveTransport()
        async with server, httpx.AsyncClient(transport=transport, timeout=0.2) as client:
            hop = Hop(client, transport)
            assert (await hop.send("GET", base, "/x")).json() == {"ok": 1}
            with pytest.raises(httpx.ReadTimeout):
                await hop.send("GET", base, "/x")
            with pytest.raises(httpx.ConnectError):
                await hop.send("GET", "http://127.0.0.1:1", "/x")

    asyncio.run(scenario())


def test_any_other_transport_gets_the_same_request() -> None:
    configure_tracing("gateway")

    async def scenario() -> None:
        seen: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(204)

        transport = httpx.MockTransport(handler)
        async with httpx.AsyncClient(transport=transport, auth=_auth("http://campaigns:8005")) as client:
            hop = Hop(client, transport)
            response = await hop.send("POST", "http://campaigns:8005", "/v1/outcomes", json={"a": "é"})
        assert response.status_code == 204
        [request] = seen
        assert str(request.url) == "http://campaigns:8005/v1/outcomes"
        assert request.content == '{"a":"é"}'.encode()
        assert request.headers["authorization"].startswith("Bearer ")
        assert request.headers["traceparent"].startswith("00-")

    asyncio.run(scenario())


def test_the_token_is_for_the_service_the_url_belongs_to() -> None:
    """A base URL's audience is used for its paths only when no other service's base URL lies below it."""
    auth = ServiceTokenAuth(
        KEYS, "gateway", {"http://h:1": "ingest", "http://h:1/fs": "feature-store", "http://c": "c"}
    )
    assert auth.audience_under("http://h:1") == (False, None)
    assert auth.audience_under("http://H:1/fs/") == (True, "feature-store")
    assert auth.audience_under("http://c") == (True, "c")

    async def scenario() -> None:
        seen: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(204)

        transport = httpx.MockTransport(handler)
        async with httpx.AsyncClient(transport=transport, auth=auth) as client:
            hop = Hop(client, transport)
            await hop.send("GET", "http://h:1", "/fs/v1/features/ck_1")
            await hop.send("GET", "http://h:1", "/v1/customers:export")
            await hop.send("GET", "http://h:1/fs", "/v1/features/ck_1")
        audiences = [
            jwt.decode(r.headers["authorization"].split()[1], options={"verify_signature": False})["aud"] for r in seen
        ]
        assert audiences == ["feature-store", "ingest", "feature-store"]

    asyncio.run(scenario())
