"""Typed page dependencies: the gateway client, the signed-in person, the chosen language."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from console.domain.i18n import Locale, negotiate
from console.domain.session import Session, read_session
from console.gateway import Gateway, SessionExpired
from console.settings import Settings, get_settings
from prometeo import clock

SettingsDep = Annotated[Settings, Depends(get_settings)]
LANG_COOKIE = "prometeo_lang"


def _gateway(request: Request) -> Gateway:
    return request.app.state.gateway


def _session(request: Request, settings: SettingsDep) -> Session:
    token = request.cookies.get(settings.session_cookie)
    session = read_session(token, clock.now().timestamp()) if token else None
    if session is None:
        raise SessionExpired(401, "Not signed in")
    return session


def _locale(request: Request) -> Locale:
    return negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


GatewayDep = Annotated[Gateway, Depends(_gateway)]
SessionDep = Annotated[Session, Depends(_session)]
LocaleDep = Annotated[Locale, Depends(_locale)]
