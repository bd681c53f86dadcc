"""Numbers as each language writes them: 1.234,56 (es, pt-BR) and 1,234.56 (en); amounts in reais."""

from __future__ import annotations

from gateway.assistant.domain.lexicon import Lang


def _grouped(value: float, decimals: int, lang: Lang) -> str:
    text = f"{value:,.{decimals}f}"
    if lang == "en":
        return text
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def number(value: float, lang: Lang) -> str:
    if float(value).is_integer():
        return _grouped(value, 0, lang)
    return _grouped(value, 2, lang)


def percent(ratio: float, lang: Lang) -> str:
    """A ratio (0.713) as a percentage with one decimal: 71,3 % / 71.3%."""
    text = _grouped(ratio * 100, 1, lang)
    return f"{text}%" if lang == "en" else f"{text} %"


def money(amount: float, lang: Lang) -> str:
    text = _grouped(amount, 2, lang)
    return f"R${text}" if lang == "en" else f"R$ {text}"
