"""Reason codes: which observable signals push a product's propensity UP, said in business words.

Each `ReasonSpec` names a signal (a group of model inputs moved together) and how to say it in
English and Spanish given the customer's values. The scorer measures a signal's effect by resetting
its inputs to the training medians and taking the drop in propensity; the largest positive drops
become reasons. Same input, same reasons (ties break by code).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from prometeo.contracts import RETAIL_PRODUCTS, ProductCode
from prometeo.contracts.events import ReasonCode
from scoring.domain.vector import HELD_ELSEWHERE_PREFIX, HELD_HERE_PREFIX

Values = Mapping[str, float]
# (values, baselines, product) → (text_en, text_es), or None when the wording would not be true.
Phrase = Callable[[Values, Values, str], tuple[str, str] | None]

# Smallest propensity change worth telling a customer or an adviser about.
MIN_EFFECT = 0.002

PRODUCT_NAMES: dict[str, tuple[str, str]] = {
    ProductCode.PAYROLL_ACCOUNT: ("payroll account", "cuenta sueldo"),
    ProductCode.SAVINGS: ("savings account", "cuenta de ahorro"),
    ProductCode.CREDIT_CARD: ("credit card", "tarjeta de crédito"),
    ProductCode.PERSONAL_LOAN: ("personal loan", "préstamo personal"),
    ProductCode.AUTO_LOAN: ("car loan", "crédito automotor"),
    ProductCode.MORTGAGE: ("mortgage", "crédito hipotecario"),
    ProductCode.AUTO_INSURANCE: ("car insurance", "seguro de auto"),
    ProductCode.LIFE_INSURANCE: ("life insurance", "seguro de vida"),
    ProductCode.HOME_INSURANCE: ("home insurance", "seguro de hogar"),
    ProductCode.INVESTMENT_FUND: ("investment fund", "fondo de inversión"),
}


@dataclass(frozen=True)
class ReasonSpec:
    code: str
    inputs: tuple[str, ...]
    phrase: Phrase
    product: str | None = None  # only explains this product (e.g. "already holds it elsewhere")


def money(value: float) -> tuple[str, str]:
    """R$ amounts: '1,234' in English, '1.234' in Spanish."""
    en = f"{value:,.0f}"
    return f"R$ {en}", f"R$ {en.replace(',', '.')}"


def _spend(category_en: str, category_es: str, feature: str) -> Phrase:
    def phrase(v: Values, base: Values, _: str) -> tuple[str, str] | None:
        amount = v.get(feature, 0.0)
        if amount <= max(base.get(feature, 0.0), 0.0):
            return None
        en, es = money(amount)
        return (
            f"spent {en} on {category_en} in the last 30 days",
            f"gastó {es} en {category_es} en los últimos 30 días",
        )

    return phrase


def _payroll(v: Values, base: Values, _: str) -> tuple[str, str] | None:
    salary = v.get("salary_30d", 0.0)
    if salary > 0:
        months_avg = v.get("inflow_90d", 0.0) / 3
        if months_avg > 0 and salary > 1.1 * months_avg:
            pct = round(100 * (salary / months_avg - 1))
            return (
                f"payroll rose {pct} % above the 90-day average",
                f"la nómina subió {pct} % sobre el promedio de 90 días",
            )
        en, es = money(salary)
        return f"receives a payroll of {en} a month", f"recibe una nómina de {es} al mes"
    inflow = v.get("inflow_30d", 0.0)
    if inflow > base.get("inflow_30d", 0.0):
        en, es = money(inflow)
        return f"income of {en} in the last 30 days", f"ingresos de {es} en los últimos 30 días"
    return None


def _balance(v: Values, base: Values, _: str) -> tuple[str, str] | None:
    current, low = v.get("balance_current", 0.0), v.get("balance_min_30d", 0.0)
    if low > 0 and current > 1.05 * low:
        pct = round(100 * (current / low - 1))
        return (f"idle balance grew {pct} % in 30 days", f"el saldo ocioso creció {pct} % en 30 días")
    if current > base.get("balance_current", 0.0):
        en, es = money(current)
        return f"keeps {en} idle in the account", f"mantiene {es} ociosos en la cuenta"
    if low < base.get("balance_min_30d", 0.0):
        en, es = money(low)
        return (f"balance fell as low as {en} this month", f"el saldo bajó hasta {es} este mes")
    return None


def _activity(v: Values, base: Values, _: str) -> tuple[str, str] | None:
    count = v.get("txn_count_30d", 0.0)
    if count <= base.get("txn_count_30d", 0.0):
        return None
    return (
        f"active account: {count:.0f} transactions in 30 days",
        f"cuenta activa: {count:.0f} transacciones en 30 días",
    )


def _tenure(v: Values, base: Values, _: str) -> tuple[str, str] | None:
    years = v.get("tenure_days", 0.0) / 365
    if years < 1:
        return ("recently joined the bank", "se unió al banco recientemente")
    return (f"customer for {years:.0f} years", f"cliente desde hace {years:.0f} años")


def _life_stage(v: Values, base: Values, _: str) -> tuple[str, str] | None:
    bands = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
    index = int(v.get("age_band_index", 2))
    band = bands[min(max(index, 0), len(bands) - 1)]
    return (
        f"life stage typical for this product (age {band})",
        f"etapa de vida típica para este producto (edad {band})",
    )


def _mortgage_elsewhere(v: Values, base: Values, product: str) -> tuple[str, str] | None:
    if v.get(f"{HELD_ELSEWHERE_PREFIX}mortgage", 0.0) < 1:
        return None
    no_home_insurance = (
        v.get(f"{HELD_HERE_PREFIX}home_insurance", 0.0) < 1 and v.get(f"{HELD_ELSEWHERE_PREFIX}home_insurance", 0.0) < 1
    )
    if product == ProductCode.HOME_INSURANCE and no_home_insurance:
        return (
            "holds a mortgage elsewhere but no home insurance",
            "tiene una hipoteca en otra institución pero ningún seguro de hogar",
        )
    return ("holds a mortgage at another institution", "tiene una hipoteca en otra institución")


def _held(product: str, elsewhere: bool) -> Phrase:
    name_en, name_es = PRODUCT_NAMES[product]
    column = f"{HELD_ELSEWHERE_PREFIX if elsewhere else HELD_HERE_PREFIX}{product}"

    def phrase(v: Values, base: Values, _: str) -> tuple[str, str] | None:
        if v.get(column, 0.0) < 1:
            return None
        if elsewhere:
            return (f"has a {name_en} at another institution", f"tiene {name_es} en otra institución")
        return (f"already has a {name_en} with us", f"ya tiene {name_es} con nosotros")

    return phrase


_BALANCES = ("balance_current", "balance_avg_30d", "balance_min_30d")

SPECS: tuple[ReasonSpec, ...] = (
    ReasonSpec("income", ("salary_30d", "salary_months_90d", "inflow_30d", "inflow_90d"), _payroll),
    ReasonSpec("idle_balance", _BALANCES, _balance),
    ReasonSpec("travel_spend", ("spend_travel_30d",), _spend("travel", "viajes", "spend_travel_30d")),
    ReasonSpec("car_spend", ("spend_fuel_30d",), _spend("fuel and car", "combustible y auto", "spend_fuel_30d")),
    ReasonSpec(
        "children_spend",
        ("spend_children_30d",),
        _spend("children's items", "artículos para niños", "spend_children_30d"),
    ),
    ReasonSpec("education_spend", ("spend_education_30d",), _spend("education", "educación", "spend_education_30d")),
    ReasonSpec("home_spend", ("spend_home_30d",), _spend("home and furniture", "hogar y muebles", "spend_home_30d")),
    ReasonSpec(
        "dining_spend",
        ("spend_restaurants_30d", "spend_entertainment_30d"),
        _spend("restaurants", "restaurantes", "spend_restaurants_30d"),
    ),
    ReasonSpec("sports_spend", ("spend_sports_30d",), _spend("sports", "deportes", "spend_sports_30d")),
    ReasonSpec("activity", ("txn_count_30d", "days_since_last_txn"), _activity),
    ReasonSpec("tenure", ("tenure_days",), _tenure),
    ReasonSpec("life_stage", ("age_band_index",), _life_stage),
    ReasonSpec("mortgage_elsewhere", (f"{HELD_ELSEWHERE_PREFIX}mortgage",), _mortgage_elsewhere),
    ReasonSpec("mortgage_here", (f"{HELD_HERE_PREFIX}mortgage",), _held(ProductCode.MORTGAGE, elsewhere=False)),
    ReasonSpec(
        "car_loan",
        (f"{HELD_HERE_PREFIX}auto_loan", f"{HELD_ELSEWHERE_PREFIX}auto_loan"),
        lambda v, b, p: (
            _held(ProductCode.AUTO_LOAN, elsewhere=True)(v, b, p)
            or _held(ProductCode.AUTO_LOAN, elsewhere=False)(v, b, p)
        ),
    ),
    *(
        ReasonSpec(
            f"held_elsewhere_{p.value}",
            (f"{HELD_ELSEWHERE_PREFIX}{p.value}",),
            _held(p.value, elsewhere=True),
            product=p.value,
        )
        for p in RETAIL_PRODUCTS
        if p not in (ProductCode.MORTGAGE, ProductCode.AUTO_LOAN)
    ),
)


def applicable_specs(columns: Sequence[str]) -> list[ReasonSpec]:
    """The signals a model can be asked about: those whose inputs it actually uses."""
    known = set(columns)
    return [s for s in SPECS if any(c in known for c in s.inputs)]


def reasons_for(
    product: str,
    effects: Mapping[str, float],
    values: Values,
    baselines: Values,
    specs: Sequence[ReasonSpec],
    limit: int,
) -> list[ReasonCode]:
    """Top `limit` signals by propensity drop when reset to baseline; only ones that raised it."""
    ranked = sorted(
        ((effects[s.code], s) for s in specs if s.code in effects and (s.product in (None, product))),
        key=lambda pair: (-pair[0], pair[1].code),
    )
    out: list[ReasonCode] = []
    for effect, spec in ranked:
        if effect < MIN_EFFECT or len(out) >= limit:
            break
        if text := spec.phrase(values, baselines, product):
            out.append(ReasonCode(code=spec.code, text_en=text[0], text_es=text[1], weight=round(effect, 4)))
    if not out and (gap := product_gap(product, values)):
        out.append(gap)
    return out


def product_gap(product: str, values: Values) -> ReasonCode | None:
    """When no single signal stands out, the offer still has a sayable reason: the product gap."""
    held = (
        values.get(f"{HELD_HERE_PREFIX}{product}", 0.0) >= 1
        or values.get(f"{HELD_ELSEWHERE_PREFIX}{product}", 0.0) >= 1
    )
    if held or product not in PRODUCT_NAMES:
        return None
    name_en, name_es = PRODUCT_NAMES[product]
    return ReasonCode(
        code="product_gap",
        text_en=f"does not hold a {name_en} with us or at another institution",
        text_es=f"no tiene {name_es} con nosotros ni en otra institución",
        weight=0.0,
    )
