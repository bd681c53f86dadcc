"""Readiness checks beyond the shared ones. Upstreams are reported, never required: the gateway
can still authenticate, limit and answer problems while one internal service is down."""

from __future__ import annotations

from fastapi import FastAPI

from gateway.upstream import UpstreamHealth


def upstreams_check(app: FastAPI) -> tuple[bool, str]:
    health: UpstreamHealth = app.state.upstream_health
    return True, health.summary()
