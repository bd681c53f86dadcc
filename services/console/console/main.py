"""Assembles the console: lifespan (the gateway client), page routers, static files, error screens."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from console.deps import LANG_COOKIE
from console.domain.i18n import negotiate
from console.gateway import Gateway, GatewayError, SessionExpired
from console.pages import assistant, auth, campaigns, customer, dashboard, today
from console.pages.health import gateway_check
from console.render import STATIC, is_htmx, render
from console.settings import get_settings
from prometeo.telemetry.tracing import configure_tracing
from prometeo.web import build_app

SERVICE = "console"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    configure_tracing(SERVICE)
    client = httpx.AsyncClient(
        base_url=settings.gateway_url,
        timeout=httpx.Timeout(settings.gateway_timeout_s, connect=2.0),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        follow_redirects=False,
    )
    app.state.gateway = Gateway(client)
    app.state.gateway_url = settings.gateway_url
    yield
    await client.aclose()


async def session_expired(request: Request, exc: Exception) -> Response:
    if is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": "/signin?expired=true"})
    return RedirectResponse("/signin?expired=true", status_code=303)


async def gateway_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    locale = negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    key = {403: "error.forbidden", 404: "error.not_found"}.get(exc.status, "error.unavailable")
    status = exc.status if exc.status in (403, 404, 422) else 503
    template = "_parts/error.html" if is_htmx(request) else "error.html"
    return render(request, template, locale, None, status_code=status, message=key)


app = build_app(
    service=SERVICE,
    title="Prometeo console",
    lifespan=lifespan,
    routers=[auth.router, today.router, customer.router, dashboard.router, campaigns.router, assistant.router],
    checks={"gateway": gateway_check},
    # Public, beside the gateway: people sign in with their own token; no service token is asked of browsers.
    internal=False,
)
app.add_exception_handler(SessionExpired, session_expired)
app.add_exception_handler(GatewayError, gateway_error)
app.mount("/static", StaticFiles(directory=STATIC), name="static")


@app.middleware("http")
async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response: Response = await call_next(request)
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        "frame-ancestors 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
