"""The read operations the assistant may call: each one a public gateway route, with the permission it needs
(the gateway checks it again on the call itself) and the console page a person opens to see the record."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final
from urllib.parse import quote, urlencode

from gateway.domain.roles import Permission


class Tool(StrEnum):
    RECOMMENDATIONS = "recommendations"
    FEATURES = "features"
    CUSTOMER_360 = "customer_360"
    KPIS = "kpis"
    EXPERIMENT = "experiment"
    PRIORITY_LIST = "priority_list"


@dataclass(frozen=True)
class ToolSpec:
    tool: Tool
    method: str
    path: str  # template: {customer_id}, {campaign_id}
    permission: Permission
    description: str
    console_path: str | None = None
    params: tuple[str, ...] = ()  # query parameters it takes


CATALOGUE: Final[dict[Tool, ToolSpec]] = {
    s.tool: s
    for s in (
        ToolSpec(
            Tool.RECOMMENDATIONS,
            "GET",
            "/v1/customers/{customer_id}/recommendations",
            Permission.READ_RECOMMENDATIONS,
            "A customer's ranked offers with propensity, expected value and reasons",
            "/customers/{customer_id}",
            ("lang",),
        ),
        ToolSpec(
            Tool.FEATURES,
            "GET",
            "/v1/customers/{customer_id}/features",
            Permission.READ_FEATURES,
            "A customer's holdings here and at other institutions and balance band",
            "/customers/{customer_id}",
        ),
        ToolSpec(
            Tool.CUSTOMER_360,
            "GET",
            "/v1/customers/{customer_id}/overview",
            Permission.READ_RECOMMENDATIONS,
            "A customer's 360: holdings, offers, channel permissions and contact history with outcomes",
            "/customers/{customer_id}",
            ("lang",),
        ),
        ToolSpec(
            Tool.KPIS,
            "GET",
            "/v1/kpis",
            Permission.READ_KPIS,
            "Acceptance, conversion, revenue, contact rate, products per customer, by product/channel/segment/campaign",
            "/dashboard",
        ),
        ToolSpec(
            Tool.EXPERIMENT,
            "GET",
            "/v1/experiments/{campaign_id}",
            Permission.READ_KPIS,
            "A campaign's test-versus-holdout conversion and lift with its 95 % interval",
            "/dashboard",
        ),
        ToolSpec(
            Tool.PRIORITY_LIST,
            "GET",
            "/v1/portfolio/priorities",
            Permission.READ_RECOMMENDATIONS,
            "The person's portfolio ranked by the expected value of each customer's best offer",
            "/today",
            ("lang", "product", "channel", "segment", "size"),
        ),
    )
}


@dataclass(frozen=True)
class ToolCall:
    tool: Tool
    args: dict[str, str] = field(default_factory=dict)  # path arguments
    params: dict[str, str] = field(default_factory=dict)  # query parameters

    @property
    def spec(self) -> ToolSpec:
        return CATALOGUE[self.tool]

    @property
    def path(self) -> str:
        return self.spec.path.format(**{k: quote(v, safe="") for k, v in self.args.items()})

    @property
    def url_path(self) -> str:
        return self.path + ("?" + urlencode(self.params) if self.params else "")

    @property
    def console_path(self) -> str | None:
        template = self.spec.console_path
        return template.format(**{k: quote(v, safe="") for k, v in self.args.items()}) if template else None


@dataclass(frozen=True)
class ToolResult:
    call: ToolCall
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300
