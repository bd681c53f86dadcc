"""A campaign's preview before launch: audience in the target, contactable on its channels, expected conversions."""

from __future__ import annotations

from datetime import UTC, datetime

from campaigns.domain.campaign import CampaignDefinition
from campaigns.domain.preview import AudienceMember, preview


def _member(ck: str, card: float, archetype: str, held: frozenset[str] = frozenset()) -> AudienceMember:
    return AudienceMember(
        ck, {"balance_avg_30d": 5000.0}, {"credit_card": card}, {"digital_archetype": archetype}, held
    )


def _campaign(**overrides: object) -> CampaignDefinition:
    body: dict[str, object] = {
        "campaign_id": "card-push",
        "name": "Card",
        "product": "credit_card",
        "target": {"all": [{"field": "segment.digital_archetype", "op": "eq", "value": "activated"}]},
        "starts_at": datetime(2026, 12, 1, tzinfo=UTC),
        "ends_at": datetime(2026, 12, 31, tzinfo=UTC),
        "budget": 100,
        "control_share": 0.2,
    }
    return CampaignDefinition.model_validate(body | overrides)


AUDIENCE = [
    _member("ck_a", 0.5, "activated"),
    _member("ck_b", 0.3, "activated"),
    _member("ck_c", 0.9, "nascent"),  # outside the target
    _member("ck_d", 0.8, "activated", frozenset({"credit_card"})),  # already holds the card
    _member("ck_e", 0.2, "activated"),  # no consent on the campaign's channels
]


def test_the_preview_counts_target_contactable_and_expected_conversions_less_the_holdout() -> None:
    result = preview(_campaign(), AUDIENCE, lambda ck: ck != "ck_e")
    assert (result.scanned, result.matching, result.contactable, result.entering) == (5, 3, 2, 2)
    assert result.expected_conversions == round((0.5 + 0.3) * 0.8, 2)


def test_the_budget_caps_who_enters_and_the_likeliest_are_counted() -> None:
    result = preview(_campaign(budget=1, control_share=0.0), AUDIENCE, lambda ck: True)
    assert (result.contactable, result.entering, result.expected_conversions) == (3, 1, 0.5)
