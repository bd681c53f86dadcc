"""Every number, amount, date, product and customer an answer states must appear in what the calls
made for it returned. `check` reads the answer's text itself (not the composer's intentions), so an
answer written by a language model is held to the same rule as one written from templates."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from gateway.assistant.domain.lexicon import PRODUCT_NAMES, Lang, normalize
from gateway.assistant.domain.parser import CPF, CUSTOMER_KEY, parse_number
from gateway.assistant.domain.tools import ToolResult

_EVIDENCE_LANGS: tuple[Lang, ...] = ("es", "en")  # reason texts are written in these
ClaimKind = Literal["number", "percent", "amount", "date", "product", "customer"]

_DATE = re.compile(r"(?<![\w/.-])(?:(\d{4})-(\d{2})-(\d{2})|(\d{2})/(\d{2})/(\d{4}))(?![\w/-])")
_NUMBER = re.compile(
    r"(?<![\w.,/-])(?P<cur>R\$\s?|US\$\s?|\$)?(?P<num>\d{1,3}(?:[.,]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)"
    r"(?P<pct>\s?%)?(?![\w/-])(?![.,]\d)"
)


@dataclass(frozen=True)
class Claim:
    kind: ClaimKind
    text: str
    value: float | str
    tolerance: float = 0.0


@dataclass
class Evidence:
    numbers: list[float] = field(default_factory=list)
    strings: set[str] = field(default_factory=set)  # normalised string leaves, call arguments included
    dates: set[str] = field(default_factory=set)  # ISO yyyy-mm-dd

    def has_number(self, value: float, tolerance: float, percent: bool) -> bool:
        candidates = (v * 100 for v in self.numbers) if percent else iter(self.numbers)
        if percent:
            return any(abs(c - value) <= tolerance + 1e-9 for c in candidates) or any(
                abs(v - value) <= tolerance + 1e-9 for v in self.numbers
            )
        return any(abs(c - value) <= tolerance + 1e-9 for c in candidates)

    def has_text(self, phrase: str) -> bool:
        return phrase in self.strings or any(phrase in s for s in self.strings)


@dataclass(frozen=True)
class GroundingReport:
    claims: tuple[Claim, ...]
    ungrounded: tuple[Claim, ...]

    @property
    def grounded(self) -> bool:
        return not self.ungrounded


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def evidence_from(results: Iterable[ToolResult]) -> Evidence:
    ev = Evidence()
    for result in results:
        if not result.ok:
            continue
        ev.strings.update(normalize(v) for v in result.call.args.values())
        ev.strings.update(normalize(v) for v in result.call.params.values())
        for leaf in _leaves(result.body):
            if isinstance(leaf, bool) or leaf is None:
                continue
            if isinstance(leaf, int | float):
                if math.isfinite(leaf):
                    ev.numbers.append(float(leaf))
            else:
                text = str(leaf)
                ev.strings.add(normalize(text))
                if m := re.match(r"(\d{4}-\d{2}-\d{2})", text):
                    ev.dates.add(m.group(1))
                for lang in _EVIDENCE_LANGS:
                    ev.numbers.extend(v for v, _ in _numbers_in(text, lang))
        for v in result.call.params.values():
            if re.fullmatch(r"\d+(\.\d+)?", v):
                ev.numbers.append(float(v))
    return ev


def _numbers_in(text: str, lang: Lang) -> Iterator[tuple[float, re.Match[str]]]:
    for m in _NUMBER.finditer(text):
        try:
            yield parse_number(m.group("num"), lang), m
        except ValueError:
            continue


def _tolerance(raw: str, lang: Lang) -> float:
    """Half a unit of the last digit shown: "71,3 %" stands for anything that rounds to it."""
    decimal = "." if lang == "en" else ","
    if decimal in raw and not re.fullmatch(r"\d{1,3}([.,]\d{3})+", raw):
        digits = len(raw.rsplit(decimal, 1)[1])
        return 0.5 * 10**-digits
    return 0.5 if "." in raw or "," in raw else 0.0


_PRODUCT_PHRASES: list[tuple[str, str]] = sorted(
    {(normalize(name), code) for code, names in PRODUCT_NAMES.items() for name in names.values()}
    | {(code.replace("_", " "), code) for code in PRODUCT_NAMES}
    | {(code, code) for code in PRODUCT_NAMES},
    key=lambda p: -len(p[0]),
)


def claims_in(text: str, lang: Lang) -> list[Claim]:
    claims: list[Claim] = []
    rest = text
    for m in CUSTOMER_KEY.finditer(rest):
        claims.append(Claim("customer", m.group(0), m.group(0)))
    rest = CUSTOMER_KEY.sub(" ", rest)
    for m in CPF.finditer(rest):
        claims.append(Claim("customer", m.group(0), m.group(0)))
    rest = CPF.sub(" ", rest)
    for m in _DATE.finditer(rest):
        iso = f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m.group(1) else f"{m.group(6)}-{m.group(5)}-{m.group(4)}"
        claims.append(Claim("date", m.group(0), iso))
    rest = _DATE.sub(" ", rest)
    for value, m in _numbers_in(rest, lang):
        kind: ClaimKind = "amount" if m.group("cur") else "percent" if m.group("pct") else "number"
        claims.append(Claim(kind, m.group(0).strip(), value, _tolerance(m.group("num"), lang)))
    norm = f" {normalize(rest).replace('_', ' ')} "
    for phrase, code in _PRODUCT_PHRASES:
        needle = f" {phrase} "
        if needle in norm:
            claims.append(Claim("product", phrase, code))
            norm = norm.replace(needle, " ")
    return claims


def _grounded(claim: Claim, ev: Evidence) -> bool:
    if claim.kind in ("number", "amount"):
        return ev.has_number(float(claim.value), claim.tolerance, percent=False)
    if claim.kind == "percent":
        return ev.has_number(float(claim.value), claim.tolerance, percent=True)
    if claim.kind == "date":
        return str(claim.value) in ev.dates
    if claim.kind == "product":
        code = str(claim.value)
        return code in ev.strings or ev.has_text(str(claim.text))
    return ev.has_text(normalize(str(claim.value)))


def check(text: str, lang: Lang, results: Iterable[ToolResult]) -> GroundingReport:
    ev = evidence_from(results)
    claims = tuple(claims_in(text, lang))
    return GroundingReport(claims, tuple(c for c in claims if not _grounded(c, ev)))
