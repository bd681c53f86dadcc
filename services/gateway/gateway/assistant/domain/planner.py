"""Intent and entities → the calls that answer them, or a refusal naming why there will be none.

The role check here only spares a doomed call and names the reason in the person's words; the gateway
checks every call again (role, scope, guard, field visibility, audit) because the calls go through it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gateway.assistant.domain.parser import ParsedQuestion
from gateway.assistant.domain.tools import CATALOGUE, Tool, ToolCall
from gateway.domain.roles import Role, is_allowed

PRIORITY_LIST_SIZE = 5


class RefusalReason(StrEnum):
    ROLE = "role"  # the person's role may not read this kind of data
    SCOPE = "scope"  # the customer is outside the person's portfolio or branch (or does not exist)
    SENSITIVE = "sensitive"  # a special category of personal data
    BULK = "bulk_personal_data"  # lists of customers' personal data
    UNGROUNDED = "ungrounded"  # the drafted answer stated something the calls did not return


class MissingReason(StrEnum):
    NO_TOOL = "no_tool"  # nothing the platform exposes answers it
    NO_CUSTOMER = "no_customer"  # a customer question without an identifier
    NO_CAMPAIGN = "no_campaign"  # an experiment question without a campaign id
    NO_DATA = "no_data"  # the calls answered, with nothing in them for the question


@dataclass(frozen=True)
class Plan:
    calls: tuple[ToolCall, ...]


@dataclass(frozen=True)
class Refusal:
    reason: RefusalReason
    tool: Tool | None = None


@dataclass(frozen=True)
class Missing:
    reason: MissingReason


CUSTOMER_TOOL: dict[str, Tool] = {
    "recommend": Tool.RECOMMENDATIONS,
    "why": Tool.RECOMMENDATIONS,
    "draft_message": Tool.RECOMMENDATIONS,
    "holdings": Tool.FEATURES,
    "profile": Tool.FEATURES,
    "contact_history": Tool.CUSTOMER_360,
}


def reason_lang(lang: str) -> str:
    """The language the upstream writes reason texts in (es or en): Portuguese is answered from codes."""
    return "en" if lang == "en" else "es"


def allowed(role: Role, tool: Tool) -> bool:
    return is_allowed(role, CATALOGUE[tool].permission)


def plan(
    parsed: ParsedQuestion, role: Role, customer_id: str | None = None, campaign_id: str | None = None
) -> Plan | Refusal | Missing:
    intent, e = parsed.intent, parsed.entities
    if intent == "sensitive":
        return Refusal(RefusalReason.SENSITIVE)
    if intent == "bulk_personal_data":
        return Refusal(RefusalReason.BULK)
    customer = e.customer_ids[0] if e.customer_ids else customer_id if not e.customer_names else None
    if intent in CUSTOMER_TOOL:
        tool = CUSTOMER_TOOL[intent]
        if not allowed(role, tool):
            return Refusal(RefusalReason.ROLE, tool)
        if customer is None:
            return Missing(MissingReason.NO_CUSTOMER)
        params = {"lang": reason_lang(parsed.lang)} if "lang" in CATALOGUE[tool].params else {}
        return Plan((ToolCall(tool, {"customer_id": customer}, params),))
    if intent in ("kpi", "ranking"):
        if not allowed(role, Tool.KPIS):
            return Refusal(RefusalReason.ROLE, Tool.KPIS)
        return Plan((ToolCall(Tool.KPIS),))
    if intent == "experiment":
        if not allowed(role, Tool.EXPERIMENT):
            return Refusal(RefusalReason.ROLE, Tool.EXPERIMENT)
        campaign = e.campaign_ids[0] if e.campaign_ids else campaign_id
        if campaign is None:
            return Missing(MissingReason.NO_CAMPAIGN)
        return Plan((ToolCall(Tool.EXPERIMENT, {"campaign_id": campaign}),))
    if intent == "priority_list":
        if not allowed(role, Tool.PRIORITY_LIST):
            return Refusal(RefusalReason.ROLE, Tool.PRIORITY_LIST)
        params = {"lang": reason_lang(parsed.lang), "size": str(PRIORITY_LIST_SIZE)}
        if e.products:
            params["product"] = e.products[0]
        if e.channels:
            params["channel"] = e.channels[0]
        if e.segments:
            params["segment"] = e.segments[0]
        return Plan((ToolCall(Tool.PRIORITY_LIST, params=params),))
    return Missing(MissingReason.NO_TOOL)


def capabilities(role: Role) -> list[Tool]:
    """What this person can ask about (named in every "I don't know" answer)."""
    return [tool for tool in Tool if allowed(role, tool)]
