"""HTML form bodies (application/x-www-form-urlencoded), parsed without a multipart dependency."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import Request

from prometeo.web import Problem

MAX_FORM_BYTES = 16 * 1024


async def form_fields(request: Request) -> dict[str, list[str]]:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise Problem(415, "Unsupported form", "send application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise Problem(413, "Form too large")
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


def first(fields: dict[str, list[str]], name: str) -> str:
    return (fields.get(name) or [""])[0].strip()
