"""A lean HTTP/1.1 keep-alive transport for the gateway's calls to the services behind it.

httpx's default transport (httpcore with the pure-Python h11 state machine) was the largest single cost of a
recommendation read in the request-path profile: a quarter of the gateway's CPU went to writing one request
and parsing one answer on an already open connection. This transport keeps httpx's client (auth hook, timeouts,
instrumentation, `httpx.Response` for the callers) and does the exchange itself: the request head is written
in one piece on a pooled asyncio connection and the answer is parsed by httptools (C, what uvicorn parses
with). Plain `http://` only — the platform's internal hops; anything else (and HEAD, whose answer has no body
to frame) goes through httpx's default transport. `exchange` is the same exchange for a caller that writes
the request head itself (`gateway.hop`, the gateway's upstream calls: no `httpx.Request` or URL per call).

- Connections are kept per host and port, at most `max_idle` idle each, `max_connections` open in all (a call
  past that waits, inside its pool timeout, as with httpcore's limits).
- An idle connection the server closed is dropped before reuse; a reused connection that fails before any byte
  of the answer arrives is retried once on a new one (the server closed it while the request was on its way).
- Failures are httpx's exceptions (`ConnectError`, `ConnectTimeout`, `ReadTimeout`, `WriteTimeout`,
  `PoolTimeout`, `RemoteProtocolError`), so callers map them as before.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import httptools
import httpx

_READ_CHUNK = 64 * 1024


class _Parsed:
    """httptools' callbacks for one response."""

    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.complete = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @property
    def usable(self) -> bool:
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class _NoAnswer(Exception):
    """The connection ended before any byte of the answer (a stale keep-alive connection)."""


def _timeout(request: httpx.Request, kind: str) -> float | None:
    value = request.extensions.get("timeout", {}).get(kind)
    return float(value) if value is not None else None


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds (None = no limit) for a free connection slot, a new connection, and writing plus reading."""

    pool: float | None
    connect: float | None
    read: float | None

    @classmethod
    def of(cls, request: httpx.Request) -> Timeouts:
        return cls(_timeout(request, "pool"), _timeout(request, "connect"), _timeout(request, "read"))


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    content: bytes


class KeepAliveTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, max_connections: int = 64, max_idle: int = 16) -> None:
        self._fallback = httpx.AsyncHTTPTransport()
        self._slots = asyncio.Semaphore(max_connections)
        self._max_idle = max_idle
        self._idle: dict[tuple[str, int], list[_Connection]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme != "http" or request.method == "HEAD":
            return await self._fallback.handle_async_request(request)
        body = await request.aread()
        answer = await self.exchange(
            request.url.host, request.url.port or 80, self._head(request), body, Timeouts.of(request), request
        )
        return httpx.Response(answer.status, headers=answer.headers, content=answer.content, request=request)

    async def exchange(
        self,
        host: str,
        port: int,
        head: bytes,
        body: bytes,
        timeouts: Timeouts,
        request: httpx.Request | None = None,
    ) -> Answer:
        """One request (`head`: request line and headers, ending in the blank line) and its answer over a
        pooled connection to host:port: what `handle_async_request` does, for callers that write the head
        themselves (gateway.hop: no httpx.Request, URL or Response per call). Plain http, not HEAD.
        Failures are httpx's exceptions (`request` is set on them when given)."""
        try:
            await asyncio.wait_for(self._slots.acquire(), timeouts.pool)
        except TimeoutError:
            raise httpx.PoolTimeout("no upstream connection free in time", request=request) from None
        try:
            conn, reused = self._checkout(host, port), True
            if conn is None:
                conn, reused = await self._open(request, host, port, timeouts.connect), False
            try:
                answer, keep = await self._exchange(request, conn, head, body, timeouts.read)
            except _NoAnswer:
                conn.close()
                if not reused:
                    raise httpx.RemoteProtocolError("upstream closed without answering", request=request) from None
                conn = await self._open(request, host, port, timeouts.connect)
                answer, keep = await self._exchange(request, conn, head, body, timeouts.read)
            except BaseException:
                conn.close()
                raise
            if keep and conn.usable:
                self._checkin(host, port, conn)
            else:
                conn.close()
        finally:
            self._slots.release()
        return answer

    @staticmethod
    def _head(request: httpx.Request) -> bytes:
        lines = [b"%s %s HTTP/1.1" % (request.method.encode(), request.url.raw_path)]
        lines += [b"%s: %s" % (name, value) for name, value in request.headers.raw]
        return b"\r\n".join(lines) + b"\r\n\r\n"

    def _checkout(self, host: str, port: int) -> _Connection | None:
        idle = self._idle.get((host, port))
        while idle:
            conn = idle.pop()
            if conn.usable:
                return conn
            conn.close()  # the server closed it while it was idle
        return None

    def _checkin(self, host: str, port: int, conn: _Connection) -> None:
        idle = self._idle.setdefault((host, port), [])
        if len(idle) < self._max_idle:
            idle.append(conn)
        else:
            conn.close()

    @staticmethod
    async def _open(request: httpx.Request | None, host: str, port: int, timeout: float | None) -> _Connection:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except TimeoutError:
            raise httpx.ConnectTimeout(f"connecting to {host}:{port} timed out", request=request) from None
        except OSError as exc:
            raise httpx.ConnectError(f"cannot connect to {host}:{port}: {exc}", request=request) from exc
        return _Connection(reader, writer)

    @staticmethod
    async def _exchange(
        request: httpx.Request | None, conn: _Connection, head: bytes, body: bytes, timeout: float | None
    ) -> tuple[Answer, bool]:
        answer = _Parsed()
        parser = httptools.HttpResponseParser(answer)
        received = False
        try:
            # One timer for writing and reading (asyncio.timeout: no task per read, unlike wait_for).
            async with asyncio.timeout(timeout):
                conn.writer.write(head + body)
                await conn.writer.drain()
                while not answer.complete:
                    chunk = await conn.reader.read(_READ_CHUNK)
                    if not chunk:
                        if not received:
                            raise _NoAnswer
                        raise httpx.RemoteProtocolError("upstream closed mid-answer", request=request)
                    received = True
                    parser.feed_data(chunk)
        except TimeoutError:
            raise httpx.ReadTimeout("upstream did not answer in time", request=request) from None
        except (ConnectionError, OSError) as exc:
            if not received:
                raise _NoAnswer from exc
            raise httpx.ReadError(f"upstream connection failed: {exc}", request=request) from exc
        except httptools.HttpParserError as exc:
            raise httpx.RemoteProtocolError(f"unreadable upstream answer: {exc}", request=request) from exc
        # Framed (the parser completed before any close) and not closing: the connection can carry the next call.
        # (httptools' should_keep_alive() reads False once a message is complete, so the header is read here.)
        closing = any(k.lower() == b"connection" and b"close" in v.lower() for k, v in answer.headers)
        keep = parser.get_http_version() == "1.1" and not closing
        return Answer(parser.get_status_code(), answer.headers, b"".join(answer.body)), keep

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
        await self._fallback.aclose()
