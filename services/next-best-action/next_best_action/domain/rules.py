"""Rule codes: the vocabulary of `rules_passed` and `blocked` in every decision.

A code names the rule, not its outcome: `held_here` in `rules_passed` means "not already held here";
in `blocked[product]` it means the product was suppressed by that rule.
"""

from enum import StrEnum


class Rule(StrEnum):
    IN_POLICY = "in_policy"  # the policy prices the product
    HELD_HERE = "held_here"  # already held at this bank
    HELD_ELSEWHERE = "held_elsewhere"  # held at another institution (Open Finance)
    AGE_BAND = "age_band"  # outside the product's age bands (or age unknown)
    CREDIT_RISK = "credit_risk"  # new credit refused by a utilisation/arrears limit
    MARKETING_PERMISSION = "marketing_permission"  # no permitted outbound channel
    INBOUND_CONVERSATION = "inbound_conversation"  # customer-initiated: no outbound permission needed
    WEEKLY_CONTACT_CAP = "weekly_contact_cap"  # the customer's weekly contact budget is spent
    CHANNEL_WEEKLY_CAP = "channel_weekly_cap"  # every usable channel has had its weekly contacts
    DECLINE_COOLDOWN = "decline_cooldown"  # declined this product recently
    REPEAT_OFFER = "repeat_offer"  # offered this product recently
    QUIET_HOURS = "quiet_hours"  # only silenced channels permitted at the customer's local time
    DAILY_VOLUME_CAP = "daily_volume_cap"  # the product's offers for today are used up
    MIN_EXPECTED_VALUE = "min_expected_value"  # expected value below the no-action threshold
    VOLUME_CONSTRAINT = "volume_constraint"  # a per-product/channel day or week volume is used up
    PRODUCT_SHARE_CAP = "product_share_cap"  # the product already has its maximum share of contacts
    MAX_OFFERS = "max_offers_per_decision"  # eligible, but ranked below the offers shown
