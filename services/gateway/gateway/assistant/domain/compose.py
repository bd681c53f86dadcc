"""Call results → the answer's text in the question's language, the figures it quotes and the records it
links. Every figure is copied from a result (formatted, never computed), so the grounding check can find it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from gateway.assistant.domain import formatting as fmt
from gateway.assistant.domain.drafts import REASON_PHRASES, Draft, draft, is_sensitive
from gateway.assistant.domain.lexicon import (
    CHANNEL_NAMES,
    METRIC_NAMES,
    PRODUCT_NAMES,
    SEGMENT_NAMES,
    Lang,
)
from gateway.assistant.domain.parser import ParsedQuestion
from gateway.assistant.domain.planner import MissingReason, RefusalReason
from gateway.assistant.domain.tools import Tool, ToolResult
from gateway.domain.roles import Role

CONTACTS_SHOWN = 3


@dataclass(frozen=True)
class Figure:
    label: str
    value: str  # as stated in the text
    source: str  # the API path it came from


@dataclass
class Composed:
    text: str
    figures: list[Figure] = field(default_factory=list)
    draft: Draft | None = None


def product_name(code: str, lang: Lang) -> str:
    return PRODUCT_NAMES.get(code, {}).get(lang, code)


def channel_name(code: str, lang: Lang) -> str:
    return CHANNEL_NAMES.get(code, {}).get(lang, code)


def short_key(key: str) -> str:
    return key[:11] + "…" if len(key) > 12 else key


def _t(lang: Lang, es: str, pt: str, en: str) -> str:
    return {"es": es, "pt-BR": pt, "en": en}[lang]


def reason_text(reason: dict[str, Any], lang: Lang) -> str | None:
    """A reason as the person reads it; Portuguese from the code (upstream writes es/en); sensitive ones left out."""
    code, text = str(reason.get("code", "")), str(reason.get("text", ""))
    if is_sensitive(code) or is_sensitive(text):
        return None
    if lang == "pt-BR":
        phrase = REASON_PHRASES.get(code, {}).get("pt-BR")
        return phrase.replace("você ", "").replace("sua ", "a ") if phrase else None
    return text or None


def _reasons(offer: dict[str, Any], lang: Lang) -> str:
    texts = [t for r in offer.get("reasons", []) if (t := reason_text(r, lang))]
    return "; ".join(texts)


# ---- customer intents ----------------------------------------------------------------------------


def _offer_line(offer: dict[str, Any], lang: Lang, source: str, figures: list[Figure]) -> str:
    name = product_name(str(offer["product"]), lang)
    parts = [f"{name} ({_t(lang, 'por', 'por', 'via')} {channel_name(str(offer.get('channel', '')), lang)})"]
    if isinstance(offer.get("propensity"), int | float):
        value = fmt.percent(float(offer["propensity"]), lang)
        figures.append(Figure(f"propensity {offer['product']}", value, source))
        parts.append(_t(lang, f"propensión {value}", f"propensão {value}", f"propensity {value}"))
    if isinstance(offer.get("expected_value"), int | float):
        value = fmt.money(float(offer["expected_value"]), lang)
        figures.append(Figure(f"expected value {offer['product']}", value, source))
        parts.append(_t(lang, f"valor esperado {value}", f"valor esperado {value}", f"expected value {value}"))
    return ", ".join(parts)


def _recommend(parsed: ParsedQuestion, body: dict[str, Any], source: str) -> Composed | MissingReason:
    lang = parsed.lang
    offers: list[dict[str, Any]] = body.get("recommendations", [])
    who = short_key(str(body.get("customer_key", "")))
    figures: list[Figure] = []
    if not offers:
        blocked = body.get("blocked") or {}
        text = _t(
            lang,
            f"El cliente {who} no tiene ofertas elegibles ahora.",
            f"O cliente {who} não tem ofertas elegíveis agora.",
            f"Customer {who} has no eligible offer right now.",
        )
        if blocked:
            listed = "; ".join(f"{product_name(p, lang)}: {', '.join(rules)}" for p, rules in sorted(blocked.items()))
            text += " " + _t(lang, f"Bloqueados: {listed}.", f"Bloqueados: {listed}.", f"Blocked: {listed}.")
        return Composed(text, figures)
    best = offers[0]
    text = _t(
        lang,
        f"Para el cliente {who}, la mejor oferta es {_offer_line(best, lang, source, figures)}.",
        f"Para o cliente {who}, a melhor oferta é {_offer_line(best, lang, source, figures)}.",
        f"For customer {who}, the best offer is {_offer_line(best, lang, source, figures)}.",
    )
    if reasons := _reasons(best, lang):
        text += " " + _t(lang, f"Por qué: {reasons}.", f"Por quê: {reasons}.", f"Why: {reasons}.")
    others = [product_name(str(o["product"]), lang) for o in offers[1:3]]
    if others:
        text += " " + _t(
            lang,
            f"Después: {', '.join(others)}.",
            f"Depois: {', '.join(others)}.",
            f"Next: {', '.join(others)}.",
        )
    return Composed(text, figures)


def _why(parsed: ParsedQuestion, body: dict[str, Any], source: str) -> Composed | MissingReason:
    lang = parsed.lang
    offers: list[dict[str, Any]] = body.get("recommendations", [])
    who = short_key(str(body.get("customer_key", "")))
    wanted = parsed.entities.products
    chosen = (
        next((o for o in offers if o.get("product") in wanted), None) if wanted else (offers[0] if offers else None)
    )
    if chosen is None:
        blocked = body.get("blocked") or {}
        hit = next((p for p in wanted if p in blocked), None)
        if hit is not None:
            rules = ", ".join(blocked[hit])
            return Composed(
                _t(
                    lang,
                    f"{product_name(hit, lang).capitalize()} no se ofrece a {who}: lo bloquean las reglas {rules}.",
                    f"{product_name(hit, lang).capitalize()} não é oferecido a {who}: bloqueado pelas regras {rules}.",
                    f"{product_name(hit, lang).capitalize()} is not offered to {who}: blocked by the rules {rules}.",
                )
            )
        if not offers:
            return MissingReason.NO_DATA
        listed = ", ".join(product_name(str(o["product"]), lang) for o in offers[:3])
        return Composed(
            _t(
                lang,
                f"Ese producto no está entre las ofertas de {who} ni entre los bloqueados; las ofertas son: {listed}.",
                f"Esse produto não está entre as ofertas de {who} nem entre os bloqueados; as ofertas são: {listed}.",
                f"That product is neither among {who}'s offers nor blocked; the offers are: {listed}.",
            )
        )
    figures: list[Figure] = []
    line = _offer_line(chosen, lang, source, figures)
    reasons = _reasons(chosen, lang) or _t(
        lang, "sin razones registradas", "sem motivos registrados", "no reasons recorded"
    )
    rules = ", ".join(chosen.get("rules_passed", []))
    text = _t(
        lang,
        f"A {who} le ofrecemos {line} porque: {reasons}.",
        f"Oferecemos a {who} {line} porque: {reasons}.",
        f"We offer {who} {line} because: {reasons}.",
    )
    if rules:
        text += " " + _t(lang, f"Reglas cumplidas: {rules}.", f"Regras cumpridas: {rules}.", f"Rules passed: {rules}.")
    return Composed(text, figures)


def _listing(codes: list[str], lang: Lang) -> str:
    return ", ".join(product_name(c, lang) for c in codes) if codes else _t(lang, "ninguno", "nenhum", "none")


def _holdings(parsed: ParsedQuestion, body: dict[str, Any], source: str) -> Composed | MissingReason:
    lang = parsed.lang
    who = short_key(str(body.get("customer_key", "")))
    here, elsewhere = list(body.get("held_products", [])), list(body.get("held_elsewhere", []))
    text = _t(
        lang,
        f"{who} tiene con nosotros: {_listing(here, lang)}. En otras instituciones: {_listing(elsewhere, lang)}.",
        f"{who} tem conosco: {_listing(here, lang)}. Em outras instituições: {_listing(elsewhere, lang)}.",
        f"{who} holds with us: {_listing(here, lang)}. At other institutions: {_listing(elsewhere, lang)}.",
    )
    return Composed(text)


def _profile(parsed: ParsedQuestion, body: dict[str, Any], source: str) -> Composed | MissingReason:
    lang = parsed.lang
    composed = _holdings(parsed, body, source)
    if not isinstance(composed, Composed):
        return composed
    band = body.get("balance_band")
    if band:
        composed.text += " " + _t(
            lang, f"Banda de saldo medio: {band}.", f"Faixa de saldo médio: {band}.", f"Average balance band: {band}."
        )
        composed.figures.append(Figure("balance band", str(band), source))
    return composed


def _date(iso: str, lang: Lang) -> str:
    day = iso[:10]
    if lang == "en" or len(day) != 10:
        return day
    y, m, d = day.split("-")
    return f"{d}/{m}/{y}"


def _contacts(parsed: ParsedQuestion, body: dict[str, Any], source: str) -> Composed | MissingReason:
    lang = parsed.lang
    who = short_key(str(body.get("customer_key", "")))
    contacts: list[dict[str, Any]] = body.get("contacts", [])
    if not contacts:
        return Composed(
            _t(
                lang,
                f"No hay contactos registrados con {who}.",
                f"Não há contatos registrados com {who}.",
                f"No contact with {who} is on record.",
            )
        )
    lines = []
    for c in contacts[:CONTACTS_SHOWN]:
        when = _date(str(c.get("decided_at") or c.get("delivered_at") or ""), lang)
        outcomes = c.get("outcomes") or []
        last = outcomes[-1] if outcomes and isinstance(outcomes, list) else None
        result = (last.get("outcome") or last.get("kind")) if isinstance(last, dict) else c.get("status")
        lines.append(
            f"{when}: {product_name(str(c.get('product')), lang)} "
            f"{_t(lang, 'por', 'por', 'via')} {channel_name(str(c.get('channel')), lang)} — {result or '-'}"
        )
    head = _t(lang, f"Últimos contactos con {who}:", f"Últimos contatos com {who}:", f"Latest contacts with {who}:")
    return Composed(head + "\n" + "\n".join(f"• {line}" for line in lines))


# ---- aggregates ----------------------------------------------------------------------------------

OVERALL_FIELD: Final[dict[str, str]] = {
    "acceptance_rate": "acceptance_rate",
    "conversion_rate": "acceptance_rate",
    "revenue": "revenue_accepted_brl",
    "contact_rate": "contact_rate",
    "products_per_customer": "products_per_customer",
    "multi_product_customers": "multi_product_customers",
    "advisor_adherence": "advisor_adherence",
    "offers_made": "offers_made",
}
SEGMENT_FIELD: Final[dict[str, str]] = {
    "acceptance_rate": "conversion_rate",
    "conversion_rate": "conversion_rate",
    "revenue": "revenue_brl",
    "offers_made": "offers",
}
RATES: Final = frozenset({"acceptance_rate", "conversion_rate", "contact_rate", "advisor_adherence"})
MONEY: Final = frozenset({"revenue"})


def _value(metric: str, raw: Any, lang: Lang) -> str:
    value = float(raw)
    if metric in RATES:
        return fmt.percent(value, lang)
    if metric in MONEY:
        return fmt.money(value, lang)
    return fmt.number(value, lang)


def _slice_name(dimension: str, key: str, lang: Lang) -> str:
    if dimension == "product":
        return product_name(key, lang)
    if dimension == "channel":
        return channel_name(key, lang)
    if dimension == "segment":
        return SEGMENT_NAMES.get(key, {}).get(lang, key)
    return key


def _period_note(parsed: ParsedQuestion) -> str:
    if parsed.entities.period is None:
        return ""
    return " " + _t(
        parsed.lang,
        "Son cifras acumuladas: la API de KPIs no filtra por período.",
        "São números acumulados: a API de KPIs não filtra por período.",
        "These are cumulative figures: the KPI API does not filter by period.",
    )


def _slices(parsed: ParsedQuestion) -> list[tuple[str, str]]:
    e = parsed.entities
    return (
        [("product", p) for p in e.products]
        + [("channel", c) for c in e.channels]
        + [("segment", s) for s in e.segments]
        + [("campaign", c) for c in e.campaign_ids]
    )


def _kpi(parsed: ParsedQuestion, body: dict[str, Any], source: str) -> Composed | MissingReason:
    lang = parsed.lang
    metrics = list(parsed.entities.metrics) or ["acceptance_rate"]
    figures: list[Figure] = []
    parts: list[str] = []
    slices = _slices(parsed)
    for metric in metrics:
        label = METRIC_NAMES[metric][lang]
        if slices and metric in SEGMENT_FIELD:
            for dimension, key in slices:
                segment = (body.get(f"by_{dimension}") or {}).get(key)
                if not isinstance(segment, dict) or segment.get(SEGMENT_FIELD[metric]) is None:
                    continue
                value = _value(metric, segment[SEGMENT_FIELD[metric]], lang)
                figures.append(Figure(f"{metric} {dimension}={key}", value, source))
                parts.append(f"{label} ({_slice_name(dimension, key, lang)}): {value}")
            continue
        raw = body.get(OVERALL_FIELD[metric])
        if raw is None:
            continue
        value = _value(metric, raw, lang)
        figures.append(Figure(metric, value, source))
        parts.append(f"{label}: {value}")
    if not parts:
        return MissingReason.NO_DATA
    joined = "; ".join(parts)
    return Composed(joined[:1].upper() + joined[1:] + "." + _period_note(parsed), figures)


DIMENSION_LABEL: Final[dict[str, dict[Lang, str]]] = {
    "campaign": {"es": "La campaña", "pt-BR": "A campanha", "en": "The campaign"},
    "product": {"es": "El producto", "pt-BR": "O produto", "en": "The product"},
    "channel": {"es": "El canal", "pt-BR": "O canal", "en": "The channel"},
    "segment": {"es": "El segmento", "pt-BR": "O segmento", "en": "The segment"},
}


def _ranking(parsed: ParsedQuestion, body: dict[str, Any], source: str) -> Composed | MissingReason:
    lang = parsed.lang
    dimension = parsed.entities.dimension or "campaign"
    metric = next((m for m in parsed.entities.metrics if m in SEGMENT_FIELD), "conversion_rate")
    field_name = SEGMENT_FIELD[metric]
    slices = {k: v for k, v in (body.get(f"by_{dimension}") or {}).items() if isinstance(v, dict) and v.get("offers")}
    if not slices:
        return MissingReason.NO_DATA
    worst = parsed.entities.worst
    key = sorted(slices, key=lambda k: (float(slices[k].get(field_name) or 0) * (1 if worst else -1), k))[0]
    chosen = slices[key]
    value = _value(metric, chosen.get(field_name) or 0, lang)
    accepted = (chosen.get("outcomes") or {}).get("accepted", 0)
    offers = chosen.get("offers", 0)
    figures = [
        Figure(f"{metric} {dimension}={key}", value, source),
        Figure(f"offers {dimension}={key}", fmt.number(offers, lang), source),
    ]
    best_word = _t(lang, "peor", "pior", "worst") if worst else _t(lang, "mejor", "melhor", "best")
    label = METRIC_NAMES[metric][lang]
    name = _slice_name(dimension, key, lang)
    text = _t(
        lang,
        f"{DIMENSION_LABEL[dimension][lang]} con {best_word} {label} es {name}: {value} "
        f"({fmt.number(accepted, lang)} aceptadas de {fmt.number(offers, lang)} ofertas).",
        f"{DIMENSION_LABEL[dimension][lang]} com {best_word} {label} é {name}: {value} "
        f"({fmt.number(accepted, lang)} aceitas de {fmt.number(offers, lang)} ofertas).",
        f"{DIMENSION_LABEL[dimension][lang]} with the {best_word} {label} is {name}: {value} "
        f"({fmt.number(accepted, lang)} accepted of {fmt.number(offers, lang)} offers).",
    )
    return Composed(text + _period_note(parsed), figures)


def _experiment(parsed: ParsedQuestion, body: dict[str, Any], source: str) -> Composed | MissingReason:
    lang = parsed.lang
    cid = str(body.get("campaign_id", ""))
    test, control, lift = body.get("test") or {}, body.get("control") or {}, body.get("lift")
    if not lift:
        return Composed(
            _t(
                lang,
                f"La campaña {cid} aún no tiene ofertas en ambos grupos: no hay lift que medir.",
                f"A campanha {cid} ainda não tem ofertas nos dois grupos: não há lift para medir.",
                f"Campaign {cid} has no offers in both groups yet: there is no lift to measure.",
            )
        )
    t, c = fmt.percent(float(test["conversion_rate"]), lang), fmt.percent(float(control["conversion_rate"]), lang)
    a, lo, hi = (fmt.percent(float(lift[k]), lang) for k in ("absolute", "ci95_low", "ci95_high"))
    p = fmt.number(round(float(lift["p_value"]), 2), lang)
    sig = bool(lift.get("significant"))
    figures = [
        Figure(n, v, source) for n, v in (("test", t), ("holdout", c), ("lift", a), ("ci_low", lo), ("ci_high", hi))
    ]
    verdict = (
        _t(lang, "significativo", "significativo", "significant")
        if sig
        else _t(lang, "no significativo", "não significativo", "not significant")
    )
    text = _t(
        lang,
        f"En la campaña {cid} el grupo de prueba convierte {t} y el holdout {c}: lift {a} "
        f"(intervalo de confianza de {lo} a {hi}, p = {p}), {verdict}.",
        f"Na campanha {cid} o grupo de teste converte {t} e o holdout {c}: lift {a} "
        f"(intervalo de confiança de {lo} a {hi}, p = {p}), {verdict}.",
        f"In campaign {cid} the test group converts {t} and the holdout {c}: lift {a} "
        f"(confidence interval {lo} to {hi}, p = {p}), {verdict}.",
    )
    return Composed(text, figures)


def _priorities(parsed: ParsedQuestion, body: dict[str, Any], source: str) -> Composed | MissingReason:
    lang = parsed.lang
    items: list[dict[str, Any]] = body.get("items", [])
    if not items:
        return Composed(
            _t(
                lang,
                "No hay clientes con ofertas en tu lista ahora.",
                "Não há clientes com ofertas na sua lista agora.",
                "No customer in your list has an offer right now.",
            )
        )
    figures: list[Figure] = []
    lines = []
    for item in items:
        value = fmt.money(float(item["expected_value"]), lang)
        figures.append(Figure(f"expected value {item['customer_key']}", value, source))
        reason = item.get("reason") or {}
        why = reason_text(reason, lang) if reason else None
        lines.append(
            f"• {short_key(str(item['customer_key']))}: {product_name(str(item['product']), lang)} "
            f"{_t(lang, 'por', 'por', 'via')} {channel_name(str(item['channel']), lang)}, "
            f"{_t(lang, 'valor esperado', 'valor esperado', 'expected value')} {value}" + (f" ({why})" if why else "")
        )
    total = fmt.number(int(body.get("total", len(items))), lang)
    head = _t(
        lang,
        f"Primero, de {total} clientes con oferta:",
        f"Primeiro, de {total} clientes com oferta:",
        f"First, of {total} customers with an offer:",
    )
    return Composed(head + "\n" + "\n".join(lines), figures)


def _draft(parsed: ParsedQuestion, body: dict[str, Any], source: str) -> Composed | MissingReason:
    lang = parsed.lang
    offers: list[dict[str, Any]] = body.get("recommendations", [])
    wanted = parsed.entities.products
    chosen = (
        next((o for o in offers if o.get("product") in wanted), None) if wanted else (offers[0] if offers else None)
    )
    if chosen is None:
        return MissingReason.NO_DATA
    message = draft(chosen, parsed.entities.target_lang or lang)
    who = short_key(str(body.get("customer_key", "")))
    text = _t(
        lang,
        f"Borrador para {who} sobre {product_name(message.product, lang)}; revíselo y apruébelo antes de enviarlo "
        "(el asistente no envía nada).",
        f"Rascunho para {who} sobre {product_name(message.product, lang)}; revise e aprove antes de enviar "
        "(o assistente não envia nada).",
        f"Draft for {who} about the {product_name(message.product, lang)}; edit and approve it before sending "
        "(the assistant sends nothing).",
    )
    return Composed(text, [], message)


COMPOSERS = {
    "recommend": _recommend,
    "why": _why,
    "holdings": _holdings,
    "profile": _profile,
    "contact_history": _contacts,
    "draft_message": _draft,
    "kpi": _kpi,
    "ranking": _ranking,
    "experiment": _experiment,
    "priority_list": _priorities,
}


def compose(parsed: ParsedQuestion, results: list[ToolResult]) -> Composed | MissingReason:
    ok = [r for r in results if r.ok]
    if not ok or parsed.intent not in COMPOSERS:
        return MissingReason.NO_TOOL
    result = ok[0]
    if not isinstance(result.body, dict):
        return MissingReason.NO_DATA
    return COMPOSERS[parsed.intent](parsed, result.body, result.call.url_path)


# ---- answers without data ------------------------------------------------------------------------

TOOL_TOPICS: Final[dict[Tool, dict[Lang, str]]] = {
    Tool.RECOMMENDATIONS: {
        "es": "qué ofrecer a un cliente y por qué (con su CPF o clave)",
        "pt-BR": "o que oferecer a um cliente e por quê (com o CPF ou a chave)",
        "en": "what to offer a customer and why (by CPF or key)",
    },
    Tool.FEATURES: {
        "es": "sus productos aquí y en otras instituciones",
        "pt-BR": "os produtos dele aqui e em outras instituições",
        "en": "their products here and at other institutions",
    },
    Tool.CUSTOMER_360: {
        "es": "su historial de contactos",
        "pt-BR": "o histórico de contatos",
        "en": "their contact history",
    },
    Tool.KPIS: {
        "es": "KPIs: aceptación, conversión, ingresos, tasa de contacto, productos por cliente, por campaña, "
        "producto, canal o segmento",
        "pt-BR": "KPIs: aceitação, conversão, receita, taxa de contato, produtos por cliente, por campanha, "
        "produto, canal ou segmento",
        "en": "KPIs: acceptance, conversion, revenue, contact rate, products per customer, by campaign, product, "
        "channel or segment",
    },
    Tool.EXPERIMENT: {
        "es": "el resultado de una campaña contra su holdout",
        "pt-BR": "o resultado de uma campanha contra o holdout",
        "en": "a campaign's result against its holdout",
    },
    Tool.PRIORITY_LIST: {
        "es": "a quién contactar primero en tu cartera",
        "pt-BR": "quem contatar primeiro na sua carteira",
        "en": "whom to contact first in your portfolio",
    },
}

MISSING_TEXT: Final[dict[MissingReason, dict[Lang, str]]] = {
    MissingReason.NO_TOOL: {
        "es": "No lo sé: ninguna de las consultas de la plataforma responde eso.",
        "pt-BR": "Não sei: nenhuma das consultas da plataforma responde isso.",
        "en": "I don't know: none of the platform's read operations answers that.",
    },
    MissingReason.NO_CUSTOMER: {
        "es": "No sé de qué cliente se trata: necesito su CPF o su clave ck_… (no busco clientes por nombre).",
        "pt-BR": "Não sei de qual cliente se trata: preciso do CPF ou da chave ck_… (não busco clientes por nome).",
        "en": "I don't know which customer you mean: I need their CPF or ck_… key (I don't look customers up by name).",
    },
    MissingReason.NO_CAMPAIGN: {
        "es": "No sé de qué campaña se trata: dime su identificador.",
        "pt-BR": "Não sei de qual campanha se trata: me diga o identificador.",
        "en": "I don't know which campaign you mean: tell me its id.",
    },
    MissingReason.NO_DATA: {
        "es": "No lo sé: las consultas respondieron, pero sin datos para esta pregunta.",
        "pt-BR": "Não sei: as consultas responderam, mas sem dados para esta pergunta.",
        "en": "I don't know: the calls answered, but with no data for this question.",
    },
}

ROLE_NAMES: Final[dict[Lang, str]] = {"es": "tu rol", "pt-BR": "seu papel", "en": "your role"}


def missing_text(reason: MissingReason, lang: Lang, tools: list[Tool]) -> str:
    topics = "; ".join(TOOL_TOPICS[t][lang] for t in tools if t in TOOL_TOPICS)
    can = _t(lang, "Puedo responder sobre: ", "Posso responder sobre: ", "I can answer about: ")
    return MISSING_TEXT[reason][lang] + (" " + can + topics + "." if topics else "")


def refusal_text(reason: RefusalReason, lang: Lang, role: Role, tool: Tool | None) -> str:
    if reason is RefusalReason.ROLE:
        customer_level = tool in (Tool.RECOMMENDATIONS, Tool.FEATURES, Tool.CUSTOMER_360, Tool.PRIORITY_LIST)
        what = (
            _t(lang, "datos de clientes individuales", "dados de clientes individuais", "individual customers' data")
            if customer_level
            else _t(lang, "indicadores agregados (KPIs)", "indicadores agregados (KPIs)", "aggregate indicators (KPIs)")
        )
        return _t(
            lang,
            f"No puedo responder: tu rol ({role.value}) no tiene acceso a {what}.",
            f"Não posso responder: seu papel ({role.value}) não tem acesso a {what}.",
            f"I can't answer: your role ({role.value}) has no access to {what}.",
        )
    if reason is RefusalReason.SCOPE:
        return _t(
            lang,
            "No puedo responder: ese cliente no está en tu cartera o sucursal (o no existe).",
            "Não posso responder: esse cliente não está na sua carteira ou agência (ou não existe).",
            "I can't answer: that customer is not in your portfolio or branch (or does not exist).",
        )
    if reason is RefusalReason.SENSITIVE:
        return _t(
            lang,
            "No puedo responder: no trato categorías sensibles de datos personales (salud, religión, opinión "
            "política, afiliación sindical, origen étnico, vida sexual, datos genéticos o biométricos).",
            "Não posso responder: não trato categorias sensíveis de dados pessoais (saúde, religião, opinião "
            "política, filiação sindical, origem racial, vida sexual, dados genéticos ou biométricos).",
            "I can't answer: I don't handle special categories of personal data (health, religion, political "
            "opinion, trade-union membership, ethnic origin, sex life, genetic or biometric data).",
        )
    if reason is RefusalReason.BULK:
        return _t(
            lang,
            "No puedo responder: no entrego listas ni exportaciones de datos personales de clientes; "
            "las solicitudes de titulares las atiende el DPO.",
            "Não posso responder: não entrego listas nem exportações de dados pessoais de clientes; "
            "pedidos de titulares são atendidos pelo DPO.",
            "I can't answer: I don't give out lists or exports of customers' personal data; "
            "data-subject requests go to the DPO.",
        )
    return _t(
        lang,
        "No puedo darte una respuesta verificada: el borrador citaba datos que las consultas no devolvieron.",
        "Não posso dar uma resposta verificada: o rascunho citava dados que as consultas não retornaram.",
        "I can't give you a verified answer: the draft stated data the calls did not return.",
    )
