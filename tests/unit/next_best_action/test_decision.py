from collections.abc import Iterable
from datetime import datetime, timedelta

import pytest

from next_best_action.domain.decision import Contact, ContactHistory, Decision, Mode, decide, offer_id_for
from next_best_action.domain.policy import Policy
from next_best_action.domain.rules import Rule
from prometeo.contracts import BUSINESS_PRODUCTS, Channel, ProductCode
from prometeo.contracts.events import ScoresComputedV1
from tests.unit.next_best_action.factories import NOW, default_policy, scores

CC, SAV, AUTO_INS = ProductCode.CREDIT_CARD, ProductCode.SAVINGS, ProductCode.AUTO_INSURANCE
ALL_CHANNELS = frozenset(Channel)
POLICY = default_policy()


def run(
    s: ScoresComputedV1 | None = None,
    permissions: Iterable[Channel] = ALL_CHANNELS,
    history: ContactHistory = ContactHistory(),
    policy: Policy = POLICY,
    mode: Mode = "outbound",
) -> Decision:
    return decide(s or scores(), permissions, history, NOW, policy, decision_id="dc_1", mode=mode)


def test_ranks_by_propensity_times_value_times_channel_factor() -> None:
    policy = POLICY.model_copy(update={"max_offers_per_decision": 3})
    decision = run(policy=policy, history=ContactHistory())
    # activated → in_app (factor 1.0): cc 0.6×420, auto_ins 0.2×380, savings 0.5×60
    assert [o.product for o in decision.offers[:2]] == [CC, AUTO_INS]
    top = decision.offers[0]
    assert top.channel is Channel.IN_APP
    assert top.expected_value == pytest.approx(0.6 * 420 * 1.0)
    assert top.offer_id == offer_id_for("dc_1", CC)
    assert top.reasons[0].code == "salary_inflow"
    assert Rule.HELD_HERE in top.rules_passed and Rule.MARKETING_PERMISSION in top.rules_passed


def test_conversion_objective_ranks_by_propensity_and_still_reports_expected_value() -> None:
    policy = POLICY  # inbound: up to three offers, ranked
    mortgage = scores({ProductCode.MORTGAGE: 0.1, SAV: 0.5, CC: 0.3})
    by_value = run(mortgage, mode="inbound")
    assert by_value.objective == "expected_value"
    assert [o.product for o in by_value.offers] == [ProductCode.MORTGAGE, CC, SAV]  # 420 > 126 > 30
    by_conversion = decide(
        mortgage,
        ALL_CHANNELS,
        ContactHistory(),
        NOW,
        policy,
        decision_id="dc_1",
        mode="inbound",
        objective="conversion",
    )
    assert by_conversion.objective == "conversion"
    assert [o.product for o in by_conversion.offers] == [SAV, CC, ProductCode.MORTGAGE]
    assert by_conversion.offers[2].expected_value == pytest.approx(0.1 * 4200)
    # The policy can make it the default; the no-action threshold stays on expected value.
    conversion_policy = policy.model_copy(update={"objective": "conversion", "min_expected_value_brl": 31.0})
    decision = run(mortgage, policy=conversion_policy, mode="inbound")
    assert [o.product for o in decision.offers] == [CC, ProductCode.MORTGAGE]
    assert decision.blocked[SAV] == [Rule.MIN_EXPECTED_VALUE]


def test_outbound_offers_one_and_explains_the_rest() -> None:
    decision = run()
    assert [o.product for o in decision.offers] == [CC]
    assert decision.blocked[AUTO_INS] == [Rule.MAX_OFFERS]


def test_product_held_here_is_suppressed() -> None:
    decision = run(scores(held_products=[CC]))
    assert CC not in [o.product for o in decision.offers]
    assert decision.blocked[CC] == [Rule.HELD_HERE]


def test_product_held_elsewhere_is_suppressed() -> None:
    decision = run(scores(held_elsewhere=[CC]))
    assert decision.blocked[CC] == [Rule.HELD_ELSEWHERE]


def test_accepted_offer_counts_as_held() -> None:
    decision = run(history=ContactHistory(accepted=frozenset({CC})))
    assert decision.blocked[CC] == [Rule.HELD_HERE]


def test_no_marketing_permission_blocks_every_outbound_offer() -> None:
    decision = run(permissions=frozenset())
    assert decision.no_action
    assert all(Rule.MARKETING_PERMISSION in rules for rules in decision.blocked.values())


def test_channel_follows_archetype_within_permissions() -> None:
    s = scores(profile={"digital_archetype": "experimenting", "age_band": "35-44"})
    assert run(s, permissions={Channel.WHATSAPP, Channel.EMAIL}).offers[0].channel is Channel.WHATSAPP
    assert run(s, permissions={Channel.SMS, Channel.WHATSAPP}).offers[0].channel is Channel.SMS
    nascent = scores(profile={"digital_archetype": "nascent", "age_band": "35-44"})
    assert run(nascent).offers[0].channel is Channel.ADVISOR


def test_fallback_to_another_permitted_channel_can_be_disabled() -> None:
    s = scores(profile={"digital_archetype": "activated", "age_band": "35-44"})
    assert run(s, permissions={Channel.SMS}).offers[0].channel is Channel.SMS
    strict = POLICY.model_copy(update={"channels": POLICY.channels.model_copy(update={"fallback_to_permitted": False})})
    assert run(s, permissions={Channel.SMS}, policy=strict).no_action


def test_decline_starts_a_cooldown_for_that_product_only() -> None:
    history = ContactHistory(declines={CC: NOW - timedelta(days=3)})
    decision = run(history=history)
    assert decision.blocked[CC] == [Rule.DECLINE_COOLDOWN]
    assert decision.offers[0].product is AUTO_INS
    expired = ContactHistory(declines={CC: NOW - timedelta(days=POLICY.contact.decline_cooldown_days + 1)})
    assert run(history=expired).offers[0].product is CC


def test_weekly_cap_blocks_once_spent() -> None:
    contacts = tuple(
        Contact(f"of_{i}", SAV, Channel.SMS, NOW - timedelta(days=i + 1))
        for i in range(POLICY.contact.max_contacts_per_week)
    )
    decision = run(history=ContactHistory(contacts=contacts))
    assert decision.no_action
    assert Rule.WEEKLY_CONTACT_CAP in decision.blocked[CC]
    old = tuple(Contact(c.offer_id, c.product, c.channel, NOW - timedelta(days=8)) for c in contacts)
    assert not run(history=ContactHistory(contacts=old)).no_action


def test_a_channel_at_its_weekly_cap_is_passed_over_for_the_next_usable_one() -> None:
    experimenting = scores(profile={"digital_archetype": "experimenting", "age_band": "35-44"})
    assert POLICY.contact.max_contacts_per_week_by_channel[Channel.SMS] == 1
    last_sms = ContactHistory(contacts=(Contact("of_x", SAV, Channel.SMS, NOW - timedelta(days=2)),))
    assert run(experimenting, history=ContactHistory()).offers[0].channel is Channel.SMS
    decision = run(experimenting, history=last_sms)
    assert decision.offers[0].channel is Channel.WHATSAPP  # next in the archetype's order
    assert Rule.CHANNEL_WEEKLY_CAP in decision.offers[0].rules_passed
    # Only SMS permitted and spent: blocked by the channel cap, not by permission.
    blocked = run(experimenting, permissions={Channel.SMS}, history=last_sms)
    assert blocked.no_action and blocked.blocked[CC] == [Rule.CHANNEL_WEEKLY_CAP]
    # A week later the SMS is usable again; an inbound conversation never counts channel caps.
    week_ago = ContactHistory(contacts=(Contact("of_x", SAV, Channel.SMS, NOW - timedelta(days=8)),))
    assert run(experimenting, permissions={Channel.SMS}, history=week_ago).offers[0].channel is Channel.SMS
    assert not run(experimenting, permissions={Channel.SMS}, history=last_sms, mode="inbound").no_action


def test_the_customers_preferred_channel_comes_first_when_permitted() -> None:
    prefers_email = scores(
        profile={"digital_archetype": "experimenting", "age_band": "35-44", "preferred_channel": "email"}
    )
    assert run(prefers_email).offers[0].channel is Channel.EMAIL
    assert run(prefers_email, permissions={Channel.SMS, Channel.WHATSAPP}).offers[0].channel is Channel.SMS
    unknown = scores(profile={"digital_archetype": "experimenting", "age_band": "35-44", "preferred_channel": "pigeon"})
    assert run(unknown).offers[0].channel is Channel.SMS  # not a channel: the archetype's order decides


def test_weekly_cap_limits_the_number_of_offers_in_one_decision() -> None:
    policy = POLICY.model_copy(update={"max_offers_per_decision": 3})
    one_used = ContactHistory(contacts=(Contact("of_x", SAV, Channel.SMS, NOW - timedelta(days=1)),))
    decision = run(policy=policy, history=one_used)
    assert len(decision.offers) == POLICY.contact.max_contacts_per_week - 1
    assert decision.blocked[AUTO_INS] == [Rule.WEEKLY_CONTACT_CAP]


def test_same_product_is_not_offered_again_within_the_repeat_window() -> None:
    history = ContactHistory(contacts=(Contact("of_old", CC, Channel.IN_APP, NOW - timedelta(days=10)),))
    assert run(history=history).blocked[CC] == [Rule.REPEAT_OFFER]


def test_no_action_below_threshold() -> None:
    s = scores({CC: 0.01, SAV: 0.02})
    decision = run(s)
    assert decision.no_action
    assert decision.blocked == {CC: [Rule.MIN_EXPECTED_VALUE], SAV: [Rule.MIN_EXPECTED_VALUE]}


def test_product_specific_threshold_overrides_the_default() -> None:
    # mortgage: 4200 × 0.008 × 1.0 = 33.6 ≥ 8 (default) but < 40 (its own threshold)
    decision = run(scores({ProductCode.MORTGAGE: 0.008}))
    assert decision.blocked[ProductCode.MORTGAGE] == [Rule.MIN_EXPECTED_VALUE]


def test_age_rules() -> None:
    young = scores({ProductCode.AUTO_LOAN: 0.5}, profile={"digital_archetype": "activated", "age_band": "18-24"})
    assert run(young).blocked[ProductCode.AUTO_LOAN] == [Rule.AGE_BAND]
    old = scores({ProductCode.MORTGAGE: 0.5}, profile={"digital_archetype": "activated", "age_band": "65+"})
    assert run(old).blocked[ProductCode.MORTGAGE] == [Rule.AGE_BAND]
    unknown = scores({ProductCode.AUTO_LOAN: 0.5}, profile={"digital_archetype": "activated"})
    assert run(unknown).blocked[ProductCode.AUTO_LOAN] == [Rule.AGE_BAND]
    assert Rule.AGE_BAND not in run(scores({SAV: 0.5}, profile={})).offers[0].rules_passed


def test_no_new_credit_above_utilisation_or_in_arrears() -> None:
    risky = scores({CC: 0.6, SAV: 0.5}, features={"credit_utilisation": 0.95})
    decision = run(risky)
    assert decision.blocked[CC] == [Rule.CREDIT_RISK]
    assert decision.offers[0].product is SAV  # non-credit products are unaffected
    arrears = scores({CC: 0.6}, features={"days_in_arrears": 12, "credit_utilisation": 0.1})
    assert run(arrears).blocked[CC] == [Rule.CREDIT_RISK]
    fine = run(scores({CC: 0.6}, features={"credit_utilisation": 0.3}))
    assert Rule.CREDIT_RISK in fine.offers[0].rules_passed
    unknown = run(scores({CC: 0.6}))  # no risk feature: rule not judged
    assert Rule.CREDIT_RISK not in unknown.offers[0].rules_passed


def test_every_failing_rule_is_listed() -> None:
    s = scores({CC: 0.6}, held_products=[CC], held_elsewhere=[CC])
    history = ContactHistory(declines={CC: NOW - timedelta(days=1)})
    assert run(s, permissions=frozenset(), history=history).blocked[CC] == [
        Rule.HELD_HERE,
        Rule.HELD_ELSEWHERE,
        Rule.MARKETING_PERMISSION,
        Rule.DECLINE_COOLDOWN,
    ]


def test_inbound_uses_the_advisor_without_permission_and_ignores_contact_frequency() -> None:
    contacts = tuple(Contact(f"of_{i}", CC, Channel.SMS, NOW - timedelta(days=1)) for i in range(5))
    decision = run(permissions=frozenset(), history=ContactHistory(contacts=contacts), mode="inbound")
    assert [o.product for o in decision.offers] == [CC, AUTO_INS, SAV]
    assert decision.offers[0].channel is Channel.ADVISOR
    assert Rule.INBOUND_CONVERSATION in decision.offers[0].rules_passed
    assert decision.offers[0].expected_value == pytest.approx(0.6 * 420 * 1.3)


def test_inbound_still_respects_eligibility_and_cooldown() -> None:
    history = ContactHistory(declines={SAV: NOW - timedelta(days=1)})
    decision = run(scores(held_elsewhere=[CC]), permissions=frozenset(), history=history, mode="inbound")
    assert decision.blocked == {CC: [Rule.HELD_ELSEWHERE], SAV: [Rule.DECLINE_COOLDOWN]}


def test_product_missing_from_policy_is_blocked() -> None:
    policy = POLICY.model_copy(update={"products": {k: v for k, v in POLICY.products.items() if k is not CC}})
    assert run(policy=policy).blocked[CC] == [Rule.IN_POLICY]


def test_decision_is_deterministic() -> None:
    assert run() == run()


# -- quiet hours and daily caps (customer's local time; NOW is 09:00 in São Paulo) ------------------


def at_local_night() -> datetime:
    return NOW.replace(hour=2)  # 23:00 in São Paulo, 20:00 in Mexico City


def test_quiet_hours_silence_interrupting_channels_in_the_customers_time_zone() -> None:
    s = scores(profile={"digital_archetype": "experimenting", "age_band": "35-44", "timezone": "America/Sao_Paulo"})
    night = decide(s, {Channel.SMS, Channel.WHATSAPP}, ContactHistory(), at_local_night(), POLICY, decision_id="d")
    assert night.no_action and night.blocked[CC] == [Rule.QUIET_HOURS]
    day = run(s, permissions={Channel.SMS})
    assert day.offers[0].channel is Channel.SMS and Rule.QUIET_HOURS in day.offers[0].rules_passed
    mexico = scores(
        profile={"digital_archetype": "experimenting", "age_band": "35-44", "timezone": "America/Mexico_City"}
    )
    assert not decide(mexico, {Channel.SMS}, ContactHistory(), at_local_night(), POLICY, decision_id="d").no_action


def test_quiet_hours_fall_back_to_a_silent_permitted_channel() -> None:
    s = scores(profile={"digital_archetype": "experimenting", "age_band": "35-44"})
    night = decide(s, {Channel.SMS, Channel.EMAIL}, ContactHistory(), at_local_night(), POLICY, decision_id="d")
    assert night.offers[0].channel is Channel.EMAIL


def test_quiet_hours_do_not_apply_to_an_inbound_conversation() -> None:
    s = scores(profile={"digital_archetype": "nascent", "age_band": "35-44"})
    inbound = decide(s, {Channel.ADVISOR}, ContactHistory(), at_local_night(), POLICY, decision_id="d", mode="inbound")
    assert inbound.offers[0].channel is Channel.ADVISOR


def test_unknown_time_zone_uses_the_policy_default() -> None:
    s = scores(profile={"digital_archetype": "experimenting", "age_band": "35-44", "timezone": "Mars/Olympus"})
    night = decide(s, {Channel.SMS}, ContactHistory(), at_local_night(), POLICY, decision_id="d")
    assert night.blocked[CC] == [Rule.QUIET_HOURS]


def test_daily_volume_cap_per_product() -> None:
    s = scores({ProductCode.PERSONAL_LOAN: 0.5, SAV: 0.5})
    full = decide(
        s, ALL_CHANNELS, ContactHistory(), NOW, POLICY, decision_id="d", volume_today={ProductCode.PERSONAL_LOAN: 2000}
    )
    assert full.blocked[ProductCode.PERSONAL_LOAN] == [Rule.DAILY_VOLUME_CAP]
    assert full.offers[0].product is SAV
    room = decide(
        s, ALL_CHANNELS, ContactHistory(), NOW, POLICY, decision_id="d", volume_today={ProductCode.PERSONAL_LOAN: 1999}
    )
    assert room.offers[0].product is ProductCode.PERSONAL_LOAN
    assert Rule.DAILY_VOLUME_CAP in room.offers[0].rules_passed


def test_volume_day_is_the_policy_time_zones_calendar_day() -> None:
    from next_best_action.domain.decision import volume_day

    assert volume_day(NOW.replace(hour=2), POLICY) == "20250601"  # 23:00 the day before in São Paulo
    assert volume_day(NOW, POLICY) == "20250602"


def test_business_credit_is_never_a_retail_offer_unless_a_policy_names_it() -> None:
    # A model scoring a business product (or a future one) cannot put it in front of a retail customer: the
    # default policy names retail products only, so the score is blocked `in_policy`.
    policy = default_policy()
    assert not BUSINESS_PRODUCTS & set(policy.products)
    s = scores({ProductCode.BUSINESS_WORKING_CAPITAL: 0.9, ProductCode.CREDIT_CARD: 0.3})
    decision = run(s, policy=policy)
    assert decision.blocked[ProductCode.BUSINESS_WORKING_CAPITAL.value] == [Rule.IN_POLICY]
    assert all(o.product is not ProductCode.BUSINESS_WORKING_CAPITAL for o in decision.offers)
