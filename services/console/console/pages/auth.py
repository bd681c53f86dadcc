"""Sign in (through the gateway's OIDC issuer), sign out, and the language switch."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from console.deps import LANG_COOKIE, GatewayDep, LocaleDep, SettingsDep
from console.domain.i18n import Locale
from console.domain.session import read_session
from console.gateway import SignInRefused
from console.pages.forms import first, form_fields
from console.render import render
from prometeo import clock

router = APIRouter()
ONE_YEAR_S = 365 * 24 * 3600


def _local(target: str) -> str:
    """Only same-site paths are followed after a form (no open redirect)."""
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/", include_in_schema=False)
async def home(request: Request, settings: SettingsDep) -> Response:
    token = request.cookies.get(settings.session_cookie)
    session = read_session(token, clock.now().timestamp()) if token else None
    return RedirectResponse(session.home if session else "/signin", status_code=303)


@router.get("/signin")
async def sign_in_form(request: Request, locale: LocaleDep, expired: bool = False) -> Response:
    return render(request, "signin.html", locale, None, error="signin.expired" if expired else None)


@router.post("/signin")
async def sign_in(request: Request, gateway: GatewayDep, settings: SettingsDep, locale: LocaleDep) -> Response:
    fields = await form_fields(request)
    try:
        token = await gateway.sign_in(first(fields, "username"), first(fields, "password"))
    except SignInRefused:
        return render(request, "signin.html", locale, None, status_code=401, error="signin.refused")
    session = read_session(token, clock.now().timestamp())
    response = RedirectResponse(session.home if session else "/", status_code=303)
    max_age = int(session.expires_at - clock.now().timestamp()) if session else 60
    response.set_cookie(
        settings.session_cookie,
        token,
        max_age=max_age,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="strict",
        path="/",
    )
    return response


@router.post("/signout")
async def sign_out(settings: SettingsDep) -> Response:
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(settings.session_cookie, path="/", secure=settings.cookie_secure, httponly=True)
    return response


@router.post("/language")
async def choose_language(request: Request, settings: SettingsDep) -> Response:
    fields = await form_fields(request)
    try:
        chosen = Locale(first(fields, "lang"))
    except ValueError:
        chosen = Locale.ES
    response = RedirectResponse(_local(first(fields, "next") or "/"), status_code=303)
    response.set_cookie(
        LANG_COOKIE, chosen.value, max_age=ONE_YEAR_S, secure=settings.cookie_secure, samesite="lax", path="/"
    )
    return response
