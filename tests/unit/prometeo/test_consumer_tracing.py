"""A consumer loop with no span exporter creates no per-message span, yet what a handler publishes still
carries the upstream trace: the extracted context is current while the handler runs."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest
from kafka.consumer.fetcher import ConsumerRecord
from opentelemetry import trace

from prometeo.bus import ConsumerLoop, EventProducer
from prometeo.contracts import Envelope, EventPayload, topics
from prometeo.settings import SharedSettings
from prometeo.telemetry import tracing
from tests.factories import booked

TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
PARENT = "00f067aa0ba902b7"


def test_without_an_exporter_the_handler_runs_in_the_upstream_trace_and_no_span_is_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tracing, "_exporting", False)  # another test may have configured one
    seen: list[trace.SpanContext] = []

    def handler(envelope: Envelope, payload: EventPayload) -> None:
        seen.append(trace.get_current_span().get_span_context())

    loop = ConsumerLoop(SharedSettings(), "g", {topics.ACCOUNT_EVENTS: handler}, cast(EventProducer, None))
    headers = [("traceparent", f"00-{TRACE_ID:032x}-{PARENT}-01".encode())]
    record: Any = SimpleNamespace(
        topic=topics.ACCOUNT_EVENTS, offset=7, headers=headers, value=booked("ck_trace_01").to_bytes(), key=None
    )
    assert loop._process(cast(ConsumerRecord, record))
    [context] = seen
    assert context.trace_id == TRACE_ID and context.span_id == int(PARENT, 16)  # the upstream span, not a new one
    assert not trace.get_current_span().get_span_context().is_valid  # and detached afterwards
