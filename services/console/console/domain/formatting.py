"""Money, numbers, percentages and dates as each locale writes them (one place, never in templates).

Amounts are Brazilian reais (the platform's currency): R$ 1.234,56 in Portuguese and Spanish, R$1,234.56 in
English — the separators follow the reader's language, the symbol the currency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from console.domain.i18n import Locale


@dataclass(frozen=True)
class NumberStyle:
    thousands: str
    decimal: str
    money_prefix: str
    date_format: str


STYLES: dict[Locale, NumberStyle] = {
    Locale.PT_BR: NumberStyle(".", ",", "R$ ", "%d/%m/%Y"),
    Locale.ES: NumberStyle(".", ",", "R$ ", "%d/%m/%Y"),
    Locale.EN: NumberStyle(",", ".", "R$", "%b %d, %Y"),
}


def number(value: float | Decimal, locale: Locale, places: int = 0) -> str:
    style = STYLES[locale]
    quantum = Decimal(1).scaleb(-places)
    rounded = Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    whole, _, frac = f"{abs(rounded):f}".partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    text = style.thousands.join(groups)
    return sign + (text + style.decimal + frac if places else text)


def money(value: float | Decimal | None, locale: Locale, places: int = 2) -> str:
    if value is None:
        return "—"
    text = number(value, locale, places)
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    return f"{sign}{STYLES[locale].money_prefix}{text}"


def percent(share: float | None, locale: Locale, places: int = 1) -> str:
    """A share (0..1) as a percentage."""
    if share is None:
        return "—"
    return number(share * 100, locale, places) + " %"


def date(value: datetime | str | None, locale: Locale) -> str:
    if value is None:
        return "—"
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.strftime(STYLES[locale].date_format)
