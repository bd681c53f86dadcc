"""Question → language, intent and entities, offline: cue phrases and synonyms matched token by token,
tolerant of misspellings (difflib's ratio on words of five letters or more)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Literal, get_args

from gateway.assistant.domain.lexicon import (
    BULK_PERSONAL_DATA_CUES,
    CHANNEL_SYNONYMS,
    DIMENSION_WORDS,
    INTENT_CUES,
    LANGS,
    LANGUAGE_MARKERS,
    METRIC_SYNONYMS,
    PRODUCT_NAMES,
    PRODUCT_SYNONYMS,
    SEGMENT_SYNONYMS,
    SENSITIVE_TERMS,
    STRONG_MARKERS,
    Lang,
    normalize,
)

Intent = Literal[
    "recommend",
    "why",
    "holdings",
    "profile",
    "contact_history",
    "draft_message",
    "kpi",
    "ranking",
    "experiment",
    "priority_list",
    "audience",
    "help",
    "sensitive",
    "bulk_personal_data",
    "unknown",
]
INTENTS: tuple[Intent, ...] = get_args(Intent)
FUZZY_MIN_LEN = 5
FUZZY_RATIO = 0.8

CPF = re.compile(r"(?<![\d.])\d{3}\.?\d{3}\.?\d{3}-?\d{2}(?![\d])")
CUSTOMER_KEY = re.compile(r"\bck_[A-Za-z0-9_-]{4,125}(?<![-_])")
CAMPAIGN_ID = re.compile(r"\b(?=[a-z0-9_-]*[a-z])(?=[a-z0-9_-]*[-_])[a-z0-9]+(?:[-_][a-z0-9]+)+\b")
NAME = re.compile(
    r"(?<=[a-záéíóúãõçñ,]\s)([A-ZÁÉÍÓÚÑ][a-záéíóúãõçñ]+(?:\s+(?:de\s+|da\s+|dos\s+)?[A-ZÁÉÍÓÚÑ][a-záéíóúãõçñ]+)+)"
)
_NOT_NAMES = frozenset({"whatsapp", "sms", "open finance", "prometeo"})

Comparison = Literal["gt", "lt", "eq"]


@dataclass(frozen=True)
class Amount:
    op: Comparison
    value: float


@dataclass(frozen=True)
class Period:
    """A period as the person said it; `days` = its length back from today where that is what it means."""

    kind: Literal["today", "this_week", "this_month", "last_month", "this_year", "last_n_days"]
    days: int | None = None


@dataclass(frozen=True)
class Entities:
    customer_ids: tuple[str, ...] = ()
    customer_names: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    dimension: str | None = None
    campaign_ids: tuple[str, ...] = ()
    period: Period | None = None
    amounts: tuple[Amount, ...] = ()
    target_lang: Lang | None = None
    worst: bool = False


@dataclass(frozen=True)
class ParsedQuestion:
    text: str
    lang: Lang
    intent: Intent
    entities: Entities = field(default_factory=Entities)
    scores: dict[str, float] = field(default_factory=dict)


@lru_cache(maxsize=65536)
def similar(word: str, cue: str) -> bool:
    """Same word, or (both long enough) a misspelling of it."""
    if word == cue:
        return True
    if len(cue) < FUZZY_MIN_LEN or len(word) < FUZZY_MIN_LEN - 1 or abs(len(word) - len(cue)) > 2:
        return False
    if word[0] != cue[0]:
        return False
    return SequenceMatcher(None, word, cue).ratio() >= FUZZY_RATIO


def _find(tokens: list[str], phrase: str) -> list[int]:
    """Start positions where the phrase's words follow each other in `tokens` (fuzzily)."""
    words = phrase.split()
    hits: list[int] = []
    for start in range(len(tokens) - len(words) + 1):
        if all(similar(tokens[start + k], w) for k, w in enumerate(words)):
            hits.append(start)
    return hits


def _match_vocabulary(tokens: list[str], vocabulary: dict[str, tuple[str, ...]]) -> list[str]:
    """Codes whose synonyms occur, longest synonym first, each token used once, in order of appearance."""
    phrases = sorted(
        ((syn, code) for code, syns in vocabulary.items() for syn in syns), key=lambda p: -len(p[0].split())
    )
    used: set[int] = set()
    found: list[tuple[int, str]] = []
    for syn, code in phrases:
        n = len(syn.split())
        for start in _find(tokens, syn):
            span = set(range(start, start + n))
            if span & used:
                continue
            used |= span
            found.append((start, code))
    ordered: list[str] = []
    for _, code in sorted(found):
        if code not in ordered:
            ordered.append(code)
    return ordered


def detect_language(tokens: list[str]) -> Lang:
    scores: dict[Lang, float] = {}
    for lang in LANGS:
        scores[lang] = sum(1.0 for t in tokens if t in LANGUAGE_MARKERS[lang]) + sum(
            2.0 for t in tokens if t in STRONG_MARKERS[lang]
        )
    best = max(LANGS, key=lambda lang: (scores[lang], lang == "es"))
    return best


_NUMBER = r"(\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d+)?)"
_GT = (
    r"mas de|mayor a|mayor que|mayores a|superior a|encima de|mais de|maior que|acima de|more than|over|above|"
    r"greater than|at least|al menos|pelo menos|>=?"
)
_LT = r"menos de|menor a|menor que|inferior a|debajo de|abaixo de|less than|under|below|at most|<=?"
_AMOUNT = re.compile(
    rf"(?P<op>{_GT}|{_LT})\s*(?:r\$|us\$|\$|brl|usd)?\s*{_NUMBER}\s*(?P<unit>k|mil|mi|million|millones|milhoes)?\b"
)


def parse_number(raw: str, lang: Lang) -> float:
    """'10.000' / '10,000' / '1.234,56' / '1,234.56' / '2.5' as the language writes them."""
    if "," in raw and "." in raw:
        decimal = "," if raw.rfind(",") > raw.rfind(".") else "."
    elif "," in raw:
        decimal = "" if lang == "en" and re.fullmatch(r"\d{1,3}(,\d{3})+", raw) else ","
    elif "." in raw:
        decimal = "" if lang != "en" and re.fullmatch(r"\d{1,3}(\.\d{3})+", raw) else "."
    else:
        decimal = ""
    cleaned = "".join(c for c in raw if c.isdigit() or c == decimal)
    return float(cleaned.replace(",", "."))


def _amounts(norm: str, lang: Lang) -> tuple[Amount, ...]:
    out: list[Amount] = []
    for m in _AMOUNT.finditer(norm):
        op_text = m.group("op")
        op: Comparison = "lt" if re.fullmatch(_LT, op_text) else "gt"
        value = parse_number(m.group(2), lang)
        unit = m.group("unit") or ""
        if unit in ("k", "mil"):
            value *= 1_000
        elif unit:
            value *= 1_000_000
        out.append(Amount(op, value))
    return tuple(out)


_WORD_NUMBERS = {"treinta": 30, "trinta": 30, "thirty": 30, "sesenta": 60, "sessenta": 60, "sixty": 60}
_WORD_NUMBERS |= {"noventa": 90, "ninety": 90, "siete": 7, "sete": 7, "seven": 7}


def _period(norm: str) -> Period | None:
    m = re.search(r"\b(?:ultimos|ultimas|last|past)\s+(\d+|\w+)\s+(dias|days|semanas|weeks|meses|months)\b", norm)
    if m:
        raw = m.group(1)
        n = int(raw) if raw.isdigit() else _WORD_NUMBERS.get(raw)
        if n is not None:
            unit = m.group(2)
            days = n * (7 if unit in ("semanas", "weeks") else 30 if unit in ("meses", "months") else 1)
            return Period("last_n_days", days)
    if re.search(r"\b(?:mes pasado|mes passado|last month|ultimo mes|mes anterior|previous month)\b", norm):
        return Period("last_month")
    if re.search(r"\b(?:este mes|esse mes|neste mes|en el mes|this month|del mes|do mes)\b", norm):
        return Period("this_month")
    if re.search(r"\b(?:esta semana|essa semana|nesta semana|this week)\b", norm):
        return Period("this_week")
    if re.search(r"\b(?:este ano|esse ano|this year|en el ano|neste ano)\b", norm):
        return Period("this_year")
    if re.search(r"\b(?:hoy|hoje|today)\b", norm):
        return Period("today")
    return None


def _target_lang(norm: str) -> Lang | None:
    if re.search(r"\b(?:en|em|in)\s+(?:portugues|portuguese)\b", norm):
        return "pt-BR"
    if re.search(r"\b(?:en|em|in)\s+(?:espanol|espanhol|spanish)\b", norm):
        return "es"
    if re.search(r"\b(?:en|em|in)\s+(?:ingles|english)\b", norm):
        return "en"
    return None


def _names(text: str) -> tuple[str, ...]:
    names = []
    for m in NAME.finditer(text):
        name = m.group(1)
        plain = normalize(name)
        if plain in _NOT_NAMES or any(
            plain == normalize(n) for names_ in PRODUCT_NAMES.values() for n in names_.values()
        ):
            continue
        names.append(name)
    return tuple(names)


def _score_intents(tokens: list[str]) -> dict[str, float]:
    """Per intent, how many of the question's words its cue phrases cover (each word counted once)."""
    scores: dict[str, float] = {}
    for intent, cues in INTENT_CUES.items():
        covered: set[int] = set()
        for cue in cues:
            n = len(cue.split())
            for start in _find(tokens, cue):
                covered |= set(range(start, start + n))
        if covered:
            scores[intent] = float(len(covered))
    return scores


def _contains(norm: str, terms: tuple[str, ...]) -> bool:
    return any(re.search(rf"\b{re.escape(t)}", norm) for t in terms)


def parse(text: str, lang: Lang | None = None) -> ParsedQuestion:
    norm = normalize(text)
    tokens = norm.split()
    language = lang or detect_language(tokens)
    ids = tuple(
        dict.fromkeys([m.group(0) for m in CUSTOMER_KEY.finditer(text)] + [m.group(0) for m in CPF.finditer(text)])
    )
    stripped = CPF.sub(" ", CUSTOMER_KEY.sub(" ", text))
    snorm = normalize(stripped)
    stokens = snorm.split()
    campaigns = tuple(
        c
        for c in dict.fromkeys(CAMPAIGN_ID.findall(snorm))
        if c not in ("e-mail", "in-app", "multi-product") and not c.startswith("ck_")
    )
    products = tuple(_match_vocabulary(stokens, PRODUCT_SYNONYMS))
    dims = _match_vocabulary(stokens, dict(DIMENSION_WORDS.items()))
    entities = Entities(
        customer_ids=ids,
        customer_names=_names(stripped) if not ids else (),
        products=products,
        channels=tuple(_match_vocabulary(stokens, CHANNEL_SYNONYMS)),
        segments=tuple(_match_vocabulary(stokens, SEGMENT_SYNONYMS)),
        metrics=tuple(_match_vocabulary(stokens, METRIC_SYNONYMS)),
        dimension=dims[0] if dims else None,
        campaign_ids=campaigns,
        period=_period(snorm),
        amounts=_amounts(snorm, language),
        target_lang=_target_lang(snorm),
        worst=bool(re.search(r"\b(?:peor|peores|pior|piores|worst|menos convierte|menos converte)\b", snorm)),
    )
    scores = _score_intents(stokens)
    return ParsedQuestion(text, language, _decide(scores, entities, snorm), entities, scores)


def _decide(scores: dict[str, float], e: Entities, norm: str) -> Intent:
    """The cue scores, read with the entities: what the question is about decides between close intents."""
    if _contains(norm, SENSITIVE_TERMS):
        return "sensitive"
    if _contains(norm, BULK_PERSONAL_DATA_CUES):
        return "bulk_personal_data"
    about_customer = bool(e.customer_ids or e.customer_names)
    if "draft_message" in scores and (about_customer or e.products or "recommend" in scores):
        return "draft_message"
    if "experiment" in scores:
        return "experiment"
    if "priority_list" in scores and not about_customer:
        return "priority_list"
    if "audience" in scores and not about_customer and not e.metrics:
        return "audience"
    if "contact_history" in scores and about_customer:
        return "contact_history"
    if "why" in scores and (about_customer or "recommend" in scores or e.products):
        return "why"
    if "holdings" in scores and about_customer and scores["holdings"] > scores.get("recommend", 0):
        return "holdings"
    if "recommend" in scores and about_customer:
        return "recommend"
    if "profile" in scores and about_customer:
        return "profile"
    if "holdings" in scores and about_customer:
        return "holdings"
    if not about_customer:
        if "ranking" in scores and (e.dimension or e.metrics):
            return "ranking"
        if e.metrics or "kpi" in scores:
            return "kpi"
        if "recommend" in scores and e.dimension == "product" and "ranking" in scores:
            return "ranking"
    if "help" in scores:
        return "help"
    if about_customer and ("recommend" in scores or "ranking" in scores):
        return "recommend"
    if "recommend" in scores or "holdings" in scores or "profile" in scores or "why" in scores:
        # About a customer, without saying which one: the plan asks for the identifier.
        return (
            "recommend"
            if "recommend" in scores
            else "holdings"
            if "holdings" in scores
            else "why"
            if "why" in scores
            else "profile"
        )
    return "unknown"
