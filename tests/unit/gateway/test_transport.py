"""The gateway's keep-alive transport against a real HTTP/1.1 server on loopback (asyncio streams)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import httpx
import pytest

from gateway.transport import KeepAliveTransport

Answer = Callable[[bytes], Awaitable[bytes | None]]


async def _serve(answer: Answer) -> tuple[asyncio.Server, list[int]]:
    """A server that reads one request head (and its declared body) at a time; `answer` returns the
    response bytes, or None to close the connection without answering. Counts connections."""
    accepted: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                response = await answer(head + body)
                if response is None:
                    break
                writer.write(response)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, accepted


def _url(server: asyncio.Server, path: str = "/x") -> str:
    port = server.sockets[0].getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def _ok(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%s\r\n%s" % (
        len(body),
        extra,
        body,
    )


def test_calls_share_one_connection_and_bodies_arrive_whole() -> None:
    async def scenario() -> None:
        seen: list[bytes] = []

        async def answer(request: bytes) -> bytes:
            seen.append(request)
            return _ok(b'{"ok": true}')

        server, accepted = await _serve(answer)
        async with server, httpx.AsyncClient(transport=KeepAliveTransport(), timeout=5) as client:
            for _ in range(5):
                response = await client.post(_url(server, "/v1/nba/ck_1/presentations?lang=es"), json={"a": 1})
                assert response.status_code == 200 and response.json() == {"ok": True}
        assert len(accepted) == 1
        assert seen[0].startswith(b"POST /v1/nba/ck_1/presentations?lang=es HTTP/1.1\r\n")
        assert seen[0].endswith(b'{"a":1}')

    asyncio.run(scenario())


def test_chunked_answers_and_connection_close_are_honoured() -> None:
    async def scenario() -> None:
        chunked = (
            b"HTTP/1.1 503 Service Unavailable\r\ntransfer-encoding: chunked\r\nretry-after: 7\r\n\r\n"
            b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        )
        closing = _ok(b"bye", b"connection: close\r\n")
        answers = iter([chunked, closing, _ok(b"again")])

        async def answer(_: bytes) -> bytes:
            return next(answers)

        server, accepted = await _serve(answer)
        async with server, httpx.AsyncClient(transport=KeepAliveTransport(), timeout=5) as client:
            first = await client.get(_url(server))
            assert (first.status_code, first.content, first.headers["retry-after"]) == (503, b"hello world", "7")
            assert (await client.get(_url(server))).content == b"bye"
            assert (await client.get(_url(server))).content == b"again"
        assert len(accepted) == 2  # the server said close: the third call opened a new connection

    asyncio.run(scenario())


def test_a_connection_the_server_dropped_while_idle_is_replaced() -> None:
    async def scenario() -> None:
        calls = 0

        async def answer(_: bytes) -> bytes | None:
            nonlocal calls
            calls += 1
            # Every second request on a connection: closed without a word (a stale keep-alive connection).
            return None if calls % 2 == 0 else _ok(b"fine")

        server, accepted = await _serve(answer)
        async with server, httpx.AsyncClient(transport=KeepAliveTransport(), timeout=5) as client:
            assert (await client.get(_url(server))).content == b"fine"
            assert (await client.get(_url(server))).content == b"fine"  # retried once on a new connection
        assert len(accepted) == 2

    asyncio.run(scenario())


def test_failures_are_httpx_errors() -> None:
    async def scenario() -> None:
        async def slow(_: bytes) -> bytes:
            await asyncio.Event().wait()  # never answers
            return _ok(b"late")

        server, _ = await _serve(slow)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            refused = f"http://127.0.0.1:{sock.getsockname()[1]}/x"
        async with server, httpx.AsyncClient(transport=KeepAliveTransport(), timeout=0.2) as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.get(_url(server))
            with pytest.raises(httpx.ConnectError):
                await client.get(refused)

    asyncio.run(scenario())
