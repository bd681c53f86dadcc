"""A short message to the customer about one offer, built from its reasons, for the advisor to edit and
approve: never a sensitive data category, always the opt-out line. Nothing here sends anything."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from gateway.assistant.domain.lexicon import PRODUCT_NAMES, SENSITIVE_TERMS, Lang, normalize

# Reason codes as a customer may read them (no amounts, nothing the customer did not share knowingly).
REASON_PHRASES: Final[dict[str, dict[Lang, str]]] = {
    "income": {
        "es": "sus ingresos llegan a su cuenta",
        "pt-BR": "sua renda chega à sua conta",
        "en": "your income arrives in your account",
    },
    "idle_balance": {
        "es": "mantiene saldo disponible",
        "pt-BR": "você mantém saldo disponível",
        "en": "you keep a balance available",
    },
    "travel_spend": {"es": "viaja con frecuencia", "pt-BR": "você viaja com frequência", "en": "you travel often"},
    "car_spend": {
        "es": "usa su auto a menudo",
        "pt-BR": "você usa o carro com frequência",
        "en": "you use your car often",
    },
    "children_spend": {
        "es": "cuida de su familia",
        "pt-BR": "você cuida da sua família",
        "en": "you look after your family",
    },
    "education_spend": {
        "es": "invierte en educación",
        "pt-BR": "você investe em educação",
        "en": "you invest in education",
    },
    "home_spend": {"es": "invierte en su hogar", "pt-BR": "você investe na sua casa", "en": "you invest in your home"},
    "dining_spend": {"es": "disfruta de salir", "pt-BR": "você gosta de sair", "en": "you enjoy going out"},
    "sports_spend": {"es": "practica deporte", "pt-BR": "você pratica esporte", "en": "you do sports"},
    "activity": {
        "es": "usa su cuenta todos los días",
        "pt-BR": "você usa sua conta todos os dias",
        "en": "you use your account every day",
    },
    "tenure": {
        "es": "es cliente desde hace años",
        "pt-BR": "você é cliente há anos",
        "en": "you have been with us for years",
    },
    "life_stage": {
        "es": "es un buen momento para usted",
        "pt-BR": "é um bom momento para você",
        "en": "it is a good moment for you",
    },
    "mortgage_elsewhere": {
        "es": "tiene una hipoteca",
        "pt-BR": "você tem um financiamento imobiliário",
        "en": "you have a mortgage",
    },
    "mortgage_here": {
        "es": "tiene su hipoteca con nosotros",
        "pt-BR": "seu financiamento imobiliário está conosco",
        "en": "your mortgage is with us",
    },
    "car_loan": {
        "es": "tiene un crédito de auto",
        "pt-BR": "você tem um financiamento de veículo",
        "en": "you have a car loan",
    },
    "product_gap": {"es": "aún no lo tiene", "pt-BR": "você ainda não tem", "en": "you do not have one yet"},
}
GREETING: Final[dict[Lang, str]] = {"es": "Hola", "pt-BR": "Olá", "en": "Hello"}
PITCH: Final[dict[Lang, str]] = {
    "es": "pensamos que un(a) {product} puede serle útil, porque {why}.",
    "pt-BR": "achamos que um(a) {product} pode ser útil para você, porque {why}.",
    "en": "we think a {product} could be useful to you, because {why}.",
}
PITCH_PLAIN: Final[dict[Lang, str]] = {
    "es": "pensamos que un(a) {product} puede serle útil.",
    "pt-BR": "achamos que um(a) {product} pode ser útil para você.",
    "en": "we think a {product} could be useful to you.",
}
CLOSE: Final[dict[Lang, str]] = {
    "es": "Si le interesa, respóndame y lo vemos juntos.",
    "pt-BR": "Se tiver interesse, me responda e vemos juntos.",
    "en": "If you are interested, reply and we will look at it together.",
}
OPT_OUT: Final[dict[Lang, str]] = {
    "es": "Si no desea recibir más mensajes como este, responda BAJA.",
    "pt-BR": "Se não quiser receber mais mensagens como esta, responda SAIR.",
    "en": "If you do not want to receive messages like this, reply STOP.",
}
_AND: Final[dict[Lang, str]] = {"es": " y ", "pt-BR": " e ", "en": " and "}


@dataclass(frozen=True)
class Draft:
    lang: Lang
    product: str
    channel: str
    text: str
    reasons_used: tuple[str, ...]
    reasons_left_out: tuple[str, ...]  # sensitive or not sayable to a customer


def is_sensitive(text: str) -> bool:
    norm = normalize(text)
    return any(term in norm for term in SENSITIVE_TERMS)


def _phrase(reason: dict[str, Any], lang: Lang) -> str | None:
    code = str(reason.get("code", ""))
    if is_sensitive(code) or is_sensitive(str(reason.get("text", ""))):
        return None
    if code in REASON_PHRASES:
        return REASON_PHRASES[code][lang]
    if code.startswith("held_elsewhere_"):
        return None  # what the customer holds elsewhere came to us through Open Finance: not for the message
    return None


def draft(offer: dict[str, Any], lang: Lang) -> Draft:
    product = str(offer["product"])
    name = PRODUCT_NAMES.get(product, {}).get(lang, product.replace("_", " "))
    used: list[str] = []
    left_out: list[str] = []
    phrases: list[str] = []
    for reason in offer.get("reasons", []):
        phrase = _phrase(reason, lang)
        code = str(reason.get("code", ""))
        if phrase is None:
            left_out.append(code)
        elif phrase not in phrases and len(phrases) < 2:
            phrases.append(phrase)
            used.append(code)
    pitch = (
        PITCH[lang].format(product=name, why=_AND[lang].join(phrases))
        if phrases
        else PITCH_PLAIN[lang].format(product=name)
    )
    text = f"{GREETING[lang]}, {pitch} {CLOSE[lang]}\n{OPT_OUT[lang]}"
    if is_sensitive(text):
        raise ValueError("a draft must never name a sensitive data category")
    return Draft(lang, product, str(offer.get("channel", "")), text, tuple(used), tuple(left_out))
