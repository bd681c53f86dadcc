"""Traces: the upstream call carries traceparent, and no span keeps a raw bank id from the path."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.main import _base_urls, app
from gateway.settings import get_settings
from gateway.upstream import Upstreams
from prometeo.telemetry import tracing
from prometeo.telemetry.tracing import configure_tracing
from tests.unit.gateway.conftest import Gateway
from tests.unit.gateway.test_routes import ADVISOR, DECISION

CPF_DIGITS = "52998224725"


def test_trace_propagates_upstream_and_raw_ids_stay_out_of_spans(gateway: Gateway) -> None:
    exporter = InMemorySpanExporter()
    provider = configure_tracing("gateway", exporter)
    gateway.upstream.handler = lambda r: httpx.Response(200, json=DECISION)
    transport = httpx.MockTransport(gateway.upstream)
    app.state.upstreams = Upstreams(
        httpx.AsyncClient(transport=transport), _base_urls(get_settings()), transport=transport
    )

    response = gateway.client.get(f"/v1/customers/{CPF_DIGITS}/recommendations", headers=ADVISOR)
    assert response.status_code == 200
    provider.force_flush()

    assert "traceparent" in gateway.upstream.seen[0].headers
    spans = exporter.get_finished_spans()
    server = [s for s in spans if s.kind.name == "SERVER"]
    assert server, [s.name for s in spans]
    trace_id = server[0].context.trace_id
    assert any(s.kind.name == "CLIENT" and s.context.trace_id == trace_id for s in spans)
    for span in spans:
        rendered = f"{span.name} {dict(span.attributes or {})}"
        assert CPF_DIGITS not in rendered, rendered


def test_without_an_exporter_no_span_is_recorded_but_the_callers_trace_travels_upstream(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracing, "_exporting", False)
    gateway.upstream.handler = lambda r: httpx.Response(200, json=DECISION)
    transport = httpx.MockTransport(gateway.upstream)
    app.state.upstreams = Upstreams(
        httpx.AsyncClient(transport=transport), _base_urls(get_settings()), transport=transport
    )
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    caller = {**ADVISOR, "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}

    assert gateway.client.get(f"/v1/customers/{CPF_DIGITS}/recommendations", headers=caller).status_code == 200
    assert gateway.upstream.seen[0].headers["traceparent"].split("-")[1] == trace_id
    # And without a caller's context, a trace id is still started and handed on.
    assert gateway.client.get(f"/v1/customers/{CPF_DIGITS}/recommendations", headers=ADVISOR).status_code == 200
    assert gateway.upstream.seen[1].headers["traceparent"].split("-")[1] not in ("", "0" * 32)
