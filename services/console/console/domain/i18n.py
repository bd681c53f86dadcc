"""Languages of the console: one catalogue per language (console/i18n/<locale>.json), chosen by the person
(a cookie) and otherwise negotiated from the browser's Accept-Language. Missing keys fall back to English,
then to the key itself, so a new string never breaks a page."""

from __future__ import annotations

import json
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Final

CATALOGUES: Final = Path(__file__).resolve().parent.parent / "i18n"


class Locale(StrEnum):
    ES = "es"
    PT_BR = "pt_BR"
    EN = "en"

    @property
    def html_lang(self) -> str:
        return self.value.replace("_", "-")

    @property
    def reason_lang(self) -> str:
        """The language the platform writes reason texts in for this locale (es or en)."""
        return "en" if self is Locale.EN else "es"


DEFAULT = Locale.ES


def _parse(tag: str) -> Locale | None:
    tag = tag.strip().replace("_", "-").lower()
    if tag.startswith("pt"):
        return Locale.PT_BR
    if tag.startswith("es"):
        return Locale.ES
    if tag.startswith("en"):
        return Locale.EN
    return None


def negotiate(chosen: str | None, accept_language: str | None) -> Locale:
    """The person's choice when valid, else the best match of Accept-Language (q-values honoured)."""
    if chosen:
        try:
            return Locale(chosen)
        except ValueError:
            pass
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, i, tag))
    for neg_q, _, tag in sorted(ranked):
        if neg_q < 0 and (found := _parse(tag)):
            return found
    return DEFAULT


@cache
def catalogue(locale: Locale) -> dict[str, str]:
    data: dict[str, str] = json.loads((CATALOGUES / f"{locale.value}.json").read_text(encoding="utf-8"))
    return data


class Translator:
    def __init__(self, locale: Locale) -> None:
        self.locale = locale
        self._own = catalogue(locale)
        self._fallback = catalogue(Locale.EN)

    def __call__(self, key: str, **values: object) -> str:
        text = self._own.get(key) or self._fallback.get(key) or key
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self._own or key in self._fallback
