"""A light open-loop HTTP/1.1 load generator on raw asyncio streams.

Requests are *scheduled* at a fixed rate whatever the server does (open loop): a slow answer never
delays the next request's departure, and each latency is measured from the request's scheduled time,
so queueing at a saturated server shows in the percentiles (no coordinated omission). Connections are
kept alive and reused; more are opened (up to `max_connections`) when every open one is busy, and past
that requests wait for a free connection — still timed from their schedule. The run is bounded: it
stops scheduling after `duration_s` and abandons whatever has not answered `grace_s` later.

An httpx client costs too much CPU per request to hold a few hundred requests/s on this machine; this
one writes prebuilt request bytes and parses only the status line and Content-Length.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from benchmarks.harness import percentile


@dataclass
class LoadResult:
    offered_rate: float
    duration_s: float
    scheduled: int = 0
    ok: int = 0
    errors: int = 0
    unfinished: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    finished_s: float = 0.0  # from the first scheduled request to the last answer

    @property
    def achieved_rate(self) -> float:
        """Successful answers per second over the scheduled window (a backlog drained later counts less)."""
        return self.ok / max(self.finished_s, self.duration_s)

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q) if self.latencies_ms else float("nan")


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, chunked, closing = 0, False, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            lowered = name.strip().lower()
            if lowered == b"content-length":
                length = int(value)
            elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif lowered == b"connection" and b"close" in value.lower():
                closing = True
        if chunked:
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        elif length:
            await self.reader.readexactly(length)
        if closing:
            raise ConnectionResetError("server closed the connection")
        return status

    def close(self) -> None:
        self.writer.close()


async def run_load(
    host: str,
    port: int,
    requests: Sequence[bytes],
    rate: float,
    duration_s: float,
    *,
    max_connections: int = 256,
    grace_s: float = 5.0,
) -> LoadResult:
    """Offers `rate` requests/s for `duration_s`, cycling through the prebuilt `requests`."""
    result = LoadResult(offered_rate=rate, duration_s=duration_s)
    idle: deque[_Connection] = deque()
    waiting: deque[tuple[float, bytes]] = deque()
    opened = 0
    in_flight: set[asyncio.Task[None]] = set()
    start = time.perf_counter()
    last_answer = start

    async def serve(conn: _Connection | None, due: float, request: bytes) -> None:
        nonlocal opened, last_answer
        while True:
            try:
                if conn is None:
                    conn = _Connection(*await asyncio.open_connection(host, port))
                status = await conn.exchange(request)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                result.errors += 1
                if conn is not None:
                    conn.close()
                conn = None
                opened -= 1
                if not waiting:
                    return
                opened += 1
                due, request = waiting.popleft()
                continue
            now = time.perf_counter()
            last_answer = now
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if 200 <= status < 300:
                result.ok += 1
                result.latencies_ms.append((now - due) * 1e3)
            else:
                result.errors += 1
            if not waiting:
                idle.append(conn)
                return
            due, request = waiting.popleft()

    def dispatch(due: float, request: bytes) -> None:
        nonlocal opened
        if idle:
            conn: _Connection | None = idle.pop()
        elif opened < max_connections:
            conn = None
            opened += 1
        else:
            waiting.append((due, request))
            return
        task = asyncio.create_task(serve(conn, due, request))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)

    interval = 1.0 / rate
    total = int(rate * duration_s)
    i = 0
    while i < total:
        now = time.perf_counter()
        # Everything due by now leaves now: a late wake-up sends a burst, as real clients would.
        while i < total and start + i * interval <= now:
            dispatch(start + i * interval, requests[i % len(requests)])
            i += 1
        if i < total:
            await asyncio.sleep(max(0.0, start + i * interval - time.perf_counter()))
    result.scheduled = total
    deadline = time.perf_counter() + grace_s
    while (in_flight or waiting) and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    result.unfinished = len(waiting) + len(in_flight)
    for task in list(in_flight):
        task.cancel()
    for task in list(in_flight):
        with contextlib.suppress(asyncio.CancelledError):
            await task
    while idle:
        idle.pop().close()
    result.finished_s = last_answer - start
    return result


def get_request(host: str, port: int, path: str, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def new_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed (the generator's own CPU matters on 2 cores), else asyncio's default."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def offer(
    host: str, port: int, requests: Sequence[bytes], rate: float, duration_s: float, **kwargs: float
) -> LoadResult:
    loop = new_loop()
    try:
        return loop.run_until_complete(run_load(host, port, requests, rate, duration_s, **kwargs))  # type: ignore[arg-type]
    finally:
        loop.close()
