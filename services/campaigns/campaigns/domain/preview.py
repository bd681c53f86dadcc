"""Before launch: how many customers a campaign's target reaches, how many may be contacted on its channels,
and how many conversions the models expect (the sum of the contactable customers' propensities for the product,
within the budget, less the holdout). Pure: the audience and the contact check are handed in."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from campaigns.domain.campaign import CampaignDefinition, matches


@dataclass(frozen=True)
class AudienceMember:
    """A customer as their latest scores.v1 described them (what a campaign's target is evaluated on)."""

    customer_key: str
    features: dict[str, float]
    propensity: dict[str, float]
    profile: dict[str, str]
    held: frozenset[str]


@dataclass(frozen=True)
class Preview:
    scanned: int  # customers with scores considered
    matching: int  # in the target and not holding the product
    contactable: int  # of those, consented and reachable on at least one of the campaign's channels
    entering: int  # contactable, capped by the budget
    expected_conversions: float  # sum of propensities of those entering who are sent something (test group)


def preview(
    campaign: CampaignDefinition, audience: Iterable[AudienceMember], contactable: Callable[[str], bool]
) -> Preview:
    scanned = matching = 0
    propensities: list[float] = []
    product = campaign.product.value
    for member in audience:
        scanned += 1
        if not matches(campaign, member.features, member.propensity, member.profile, set(member.held)):
            continue
        matching += 1
        if contactable(member.customer_key):
            propensities.append(member.propensity.get(product, 0.0))
    # The budget admits whoever comes first; the preview assumes the likeliest (an upper bound, said as such).
    entering = sorted(propensities, reverse=True)[: campaign.budget]
    expected = sum(entering) * (1 - campaign.control_share)
    return Preview(
        scanned=scanned,
        matching=matching,
        contactable=len(propensities),
        entering=len(entering),
        expected_conversions=round(expected, 2),
    )
