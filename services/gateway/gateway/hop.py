"""One call to a service behind the gateway, written by hand: request head, service token, trace context.

Why not `httpx.AsyncClient.request`: on a recommendation read the client layer around the transport (URL
parsing and merging, `httpx.Request`, cookies, the auth flow generator, the redirect loop) and the
OpenTelemetry httpx wrapper (span attributes from a re-parsed URL, header normalisation) cost more CPU
than the exchange itself (~40 % of the gateway's in-process CPU per read, `benchmarks.gateway_hop`).
Here the head is written from strings the gateway already holds and handed to the keep-alive transport's
`exchange`; what httpx did is kept, and kept the same:

- the headers httpx sends: the client's defaults (`Accept`, `Accept-Encoding`, `Connection`,
  `User-Agent`) with the caller's on top, `Host`, `Content-Length` (0 on POST/PUT/PATCH without a body),
  `Content-Type` for JSON (encoded as httpx does: compact, UTF-8, no NaN), the service token of the
  service the URL belongs to (`ServiceTokenAuth`), W3C `traceparent` of a client span;
- the query as httpx encodes it; a path httpx would rewrite (percent-escapes, dot segments, a query of
  its own) is built by `httpx.URL` itself;
- the client's timeouts; failures are httpx's exceptions, so `Upstreams.call` maps them as before;
- the answer is an `httpx.Response` (its decoding of `Content-Encoding` included).

The client span is made here (kind CLIENT, named by the method, the instrumentation's attributes) and
recorded only while spans are exported (`prometeo.telemetry.tracing.WhileExporting`); unrecorded, it still
carries the trace id and a fresh span id to the service. Any other transport (HEAD, https, the tests'
`httpx.MockTransport`) gets the same head as an `httpx.Request`.
"""

from __future__ import annotations

import json as jsonlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import httpx
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from gateway.transport import KeepAliveTransport, Timeouts
from prometeo.service_tokens import ServiceTokenAuth

# A path httpx sends as it is: no escapes to normalise, no query, no dot segments to remove.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9\-_~/:@!$&'()*+,;=.]*")
_DOT_SEGMENT = re.compile(r"/\.\.?(?:/|$)")
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
_TRACER = trace.get_tracer(__name__)


@dataclass(frozen=True, slots=True)
class _Base:
    origin: str  # scheme://host[:port]
    direct: bool  # plain http: the keep-alive transport's exchange
    host: str
    port: int
    host_header: bytes
    path: str
    fixed_audience: bool  # every URL below this base has `audience` (ServiceTokenAuth.audience_under)
    audience: str | None


@lru_cache(maxsize=1024)
def _query(items: tuple[tuple[str, str], ...]) -> str:
    """The query as httpx encodes it; a route sends the same few (lang, objective, an advisor's portfolio)."""
    return urlencode(items)


def _plain(path: str) -> bool:
    return _PLAIN_PATH.fullmatch(path) is not None and _DOT_SEGMENT.search(path) is None


class Hop:
    """Calls through `transport` with `client`'s default headers, timeouts and service-token auth."""

    def __init__(self, client: httpx.AsyncClient, transport: httpx.AsyncBaseTransport) -> None:
        auth = client.auth
        if auth is not None and not isinstance(auth, ServiceTokenAuth):
            raise TypeError("the gateway's upstream calls carry service tokens (ServiceTokenAuth) or none")
        self._auth = auth
        self._transport = transport
        self._keep_alive = transport if isinstance(transport, KeepAliveTransport) else None
        self._defaults = [(name.lower(), value) for name, value in client.headers.raw]
        timeout = client.timeout
        self._timeout = timeout.as_dict()
        self._timeouts = Timeouts(timeout.pool, timeout.connect, timeout.read)
        self._bases: dict[str, _Base] = {}

    def _base(self, base_url: str) -> _Base:
        base = self._bases.get(base_url)
        if base is None:
            url = httpx.URL(base_url)
            direct = self._keep_alive is not None and url.scheme == "http" and not url.query
            origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
            fixed, audience = self._auth.audience_under(base_url) if self._auth is not None else (True, None)
            base = _Base(origin, direct, url.host, url.port or 80, url.netloc, url.path.rstrip("/"), fixed, audience)
            self._bases[base_url] = base
        return base

    async def send(
        self,
        method: str,
        base_url: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        base = self._base(base_url)
        url = base_url + path
        if _plain(path) and base.direct:
            target = (base.path + path) if not params else f"{base.path}{path}?{_query(tuple(params.items()))}"
        else:
            exact = httpx.URL(url, params=params) if params else httpx.URL(url)
            target = exact.raw_path.decode("ascii")
        body = b""
        sent = dict(self._defaults)
        sent[b"host"] = base.host_header
        if headers:
            for name, value in headers.items():
                sent[name.lower().encode("ascii")] = value.encode("ascii")  # as httpx encodes header values
        # The body's own headers only where the caller set none (httpx's Request sets them as defaults).
        if json is not None:
            body = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            sent.setdefault(b"content-length", str(len(body)).encode())
            sent.setdefault(b"content-type", b"application/json")
        elif content is not None:
            body = content
            sent.setdefault(b"content-length", str(len(body)).encode())
        elif method in _WITH_BODY and b"transfer-encoding" not in sent:
            sent.setdefault(b"content-length", b"0")
        if self._auth is not None:
            audience = base.audience if base.fixed_audience and path.startswith("/") else self._auth.audience_for(url)
            if audience is not None:
                sent[b"authorization"] = b"Bearer " + self._auth.token_for(audience).encode("ascii")
        span = _TRACER.start_span(method, kind=SpanKind.CLIENT)
        if span.is_recording():
            span.set_attributes({"http.method": method, "http.url": url, "server.address": base.host})
        carrier: dict[str, str] = {}
        propagate.inject(carrier, context=trace.set_span_in_context(span))
        for name, value in carrier.items():
            sent[name.encode("ascii")] = value.encode("latin-1")
        try:
            response = await self._exchange(method, base, target, sent, body)
            if span.is_recording():
                span.set_attribute("http.status_code", response.status_code)
                if response.status_code >= 400:
                    span.set_status(Status(StatusCode.ERROR))
            return response
        except Exception as exc:
            if span.is_recording():
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, type(exc).__qualname__))
            raise
        finally:
            span.end()  # also when the caller's request is cancelled mid-call

    async def _exchange(
        self, method: str, base: _Base, target: str, headers: dict[bytes, bytes], body: bytes
    ) -> httpx.Response:
        if base.direct and method != "HEAD":
            assert self._keep_alive is not None
            lines = [f"{method} {target} HTTP/1.1".encode("ascii")]
            lines += [b"%s: %s" % item for item in headers.items()]
            head = b"\r\n".join(lines) + b"\r\n\r\n"
            answer = await self._keep_alive.exchange(base.host, base.port, head, body, self._timeouts)
            return httpx.Response(answer.status, headers=answer.headers, content=answer.content)
        request = httpx.Request(
            method,
            base.origin + target,
            headers=list(headers.items()),
            content=body,
            extensions={"timeout": self._timeout},
        )
        response = await self._transport.handle_async_request(request)
        await response.aread()
        return response
