"""Readiness: the gateway is reported, not required (the console still answers its sign-in page)."""

from __future__ import annotations

from fastapi import FastAPI


def gateway_check(app: FastAPI) -> tuple[bool, str]:
    return True, f"gateway {app.state.gateway_url}"
