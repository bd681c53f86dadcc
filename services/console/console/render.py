"""One Jinja2 environment for every screen; a page renders its template with the translator, the person and
its view model. htmx requests get only the partial they asked for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from console.domain.i18n import Locale, Translator
from console.domain.session import Session

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"

env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), auto_reload=False)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(
    request: Request,
    template: str,
    locale: Locale,
    session: Session | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    html = env.get_template(template).render(
        t=Translator(locale),
        locale=locale,
        locales=list(Locale),
        session=session,
        path=request.url.path,
        here=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})
