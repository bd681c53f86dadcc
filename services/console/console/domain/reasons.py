"""Reason texts in the reader's language. The platform writes them in Spanish and English (with the customer's
figures inside); Portuguese is derived here from the Spanish wording, phrase by phrase, keeping every figure.
A wording this table does not know stays in Spanish rather than being guessed."""

from __future__ import annotations

import re
from typing import Final

from console.domain.i18n import Locale, Translator

# Spanish product and category names inside reason texts → Portuguese.
_NAMES_PT: Final = {
    "cuenta sueldo": "conta salário",
    "cuenta de ahorro": "poupança",
    "tarjeta de crédito": "cartão de crédito",
    "préstamo personal": "empréstimo pessoal",
    "crédito automotor": "financiamento de veículo",
    "crédito hipotecario": "financiamento imobiliário",
    "seguro de auto": "seguro auto",
    "seguro de vida": "seguro de vida",
    "seguro de hogar": "seguro residencial",
    "fondo de inversión": "fundo de investimento",
    "viajes": "viagens",
    "combustible y auto": "combustível e carro",
    "artículos para niños": "artigos infantis",
    "educación": "educação",
    "hogar y muebles": "casa e móveis",
    "salud": "saúde",
    "restaurantes": "restaurantes",
    "deportes": "esportes",
}

_NAME = "(?P<name>.+?)"
# (Spanish pattern, Portuguese template): groups are carried over as they are (figures, names translated).
_PHRASES_PT: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(f"^{pattern}$"), template)
    for pattern, template in (
        (
            r"gastó (?P<amount>R\$ [\d.]+) en " + _NAME + r" en los últimos 30 días",
            "gastou {amount} em {name} nos últimos 30 dias",
        ),
        (
            r"la nómina subió (?P<pct>-?\d+) % sobre el promedio de 90 días",
            "o salário subiu {pct} % acima da média de 90 dias",
        ),
        (r"recibe una nómina de (?P<amount>R\$ [\d.]+) al mes", "recebe um salário de {amount} por mês"),
        (r"ingresos de (?P<amount>R\$ [\d.]+) en los últimos 30 días", "renda de {amount} nos últimos 30 dias"),
        (r"el saldo ocioso creció (?P<pct>-?\d+) % en 30 días", "o saldo parado cresceu {pct} % em 30 dias"),
        (r"mantiene (?P<amount>R\$ [\d.]+) ociosos en la cuenta", "mantém {amount} parados na conta"),
        (r"el saldo bajó hasta (?P<amount>R\$ [\d.]+) este mes", "o saldo caiu até {amount} este mês"),
        (r"cuenta activa: (?P<n>\d+) transacciones en 30 días", "conta ativa: {n} transações em 30 dias"),
        (r"se unió al banco recientemente", "entrou no banco recentemente"),
        (r"cliente desde hace (?P<n>\d+) años", "cliente há {n} anos"),
        (
            r"etapa de vida típica para este producto \(edad (?P<band>[^)]+)\)",
            "fase de vida típica para este produto (idade {band})",
        ),
        (
            r"tiene una hipoteca en otra institución pero ningún seguro de hogar",
            "tem um financiamento imobiliário em outra instituição, mas nenhum seguro residencial",
        ),
        (r"tiene " + _NAME + r" en otra institución", "tem {name} em outra instituição"),
        (r"ya tiene " + _NAME + r" con nosotros", "já tem {name} conosco"),
        (
            r"no tiene " + _NAME + r" con nosotros ni en otra institución",
            "não tem {name} conosco nem em outra instituição",
        ),
    )
)


def _pt_amount(text: str) -> str:
    return text  # R$ 1.234 is already how Portuguese writes it


def to_portuguese(text_es: str) -> str:
    for pattern, template in _PHRASES_PT:
        match = pattern.match(text_es)
        if match:
            groups = {k: _NAMES_PT.get(v, v) for k, v in match.groupdict().items()}
            if "amount" in groups:
                groups["amount"] = _pt_amount(groups["amount"])
            return template.format(**groups)
    return text_es


def localized(text: str, locale: Locale) -> str:
    """A reason text the gateway answered in `locale.reason_lang`, in the reader's language."""
    return to_portuguese(text) if locale is Locale.PT_BR else text


def talking_points(product: str, reason_codes: list[str], t: Translator) -> list[str]:
    """What the advisor can say: an opener from the strongest reason, then the product's own point."""
    points = [t(f"talk.reason.{code}") for code in reason_codes[:2] if t.has(f"talk.reason.{code}")]
    if t.has(f"talk.product.{product}"):
        points.append(t(f"talk.product.{product}"))
    points.append(t("talk.close"))
    return points
