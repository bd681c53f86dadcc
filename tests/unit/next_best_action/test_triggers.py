from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from next_best_action.domain.triggers import (
    Action,
    CustomerView,
    TriggerName,
    action_for,
    activity_drop,
    from_account_event,
    post_acquisition,
)
from prometeo.contracts import Channel, ProductCode
from prometeo.contracts.events import ActionKind, ContractMaturingV1, PaymentReturnedV1
from tests.unit.next_best_action.factories import NOW, default_policy

VIEW = CustomerView(customer_key="ck_1", permissions=frozenset({Channel.IN_APP, Channel.WHATSAPP}))


def test_a_contract_inside_its_window_is_a_moment_keyed_by_account_and_date() -> None:
    policy = default_policy()
    soon = ContractMaturingV1(account_id="a1", product=ProductCode.SAVINGS, matures_on=NOW.date() + timedelta(days=10))
    later = soon.model_copy(update={"matures_on": NOW.date() + timedelta(days=90)})
    [moment] = from_account_event(soon, NOW, policy)
    assert moment.key == f"contract_maturing:a1:{soon.matures_on.isoformat()}" and moment.detail["days_left"] == "10"
    assert from_account_event(later, NOW, policy) == []
    action = action_for(moment, policy, VIEW)
    assert isinstance(action, Action) and action.product is ProductCode.INVESTMENT_FUND
    assert action.channel is Channel.IN_APP  # advisor first in the rule, but not permitted


def test_a_returned_payment_is_a_service_action_that_needs_no_marketing_permission() -> None:
    payment = PaymentReturnedV1(
        account_id="a1", transaction_id="t9", amount=Decimal("120.50"), reason="insufficient_funds"
    )
    [moment] = from_account_event(payment, NOW, default_policy())
    action = action_for(moment, default_policy(), CustomerView(customer_key="ck_1"))
    assert isinstance(action, Action)
    assert (action.kind, action.action, action.channel) == (ActionKind.SERVICE, "payment_assistance", Channel.IN_APP)
    again = action_for(moment, default_policy(), CustomerView(customer_key="ck_1"))
    assert isinstance(again, Action) and action.action_id == again.action_id


def test_activity_falling_against_the_customers_own_baseline_is_one_retention_moment_a_month() -> None:
    policy = default_policy()
    # 60 transactions in the 60 days before (30 a month), 8 in the last 30: below half the baseline.
    [moment] = activity_drop({"txn_count_30d": 8, "txn_count_90d": 68}, NOW, policy)
    assert moment.trigger is TriggerName.ACTIVITY_DROP and moment.key == f"activity_drop:{NOW:%Y%m}"
    assert activity_drop({"txn_count_30d": 20, "txn_count_90d": 80}, NOW, policy) == []  # steady
    assert activity_drop({"txn_count_30d": 1, "txn_count_90d": 9}, NOW, policy) == []  # never active
    action = action_for(moment, policy, VIEW)
    assert isinstance(action, Action) and action.kind is ActionKind.RETENTION and action.product is None


def test_days_after_an_acquisition_offer_its_follow_up_unless_already_held() -> None:
    policy = default_policy()
    acquired = {ProductCode.CREDIT_CARD: NOW.date() - timedelta(days=8), ProductCode.SAVINGS: date(2020, 1, 1)}
    [moment] = post_acquisition(acquired, NOW, policy)
    action = action_for(moment, policy, VIEW)
    assert isinstance(action, Action) and action.product is ProductCode.AUTO_INSURANCE
    held = CustomerView(customer_key="ck_1", permissions=VIEW.permissions, held=frozenset({ProductCode.AUTO_INSURANCE}))
    assert action_for(moment, policy, held) == "held_here"


def test_each_trigger_has_its_own_cooldown_and_contact_rules() -> None:
    policy = default_policy()
    payment = PaymentReturnedV1(account_id="a1", transaction_id="t10", amount=Decimal("1"))
    [moment] = from_account_event(payment, NOW, policy)
    recent = CustomerView(customer_key="ck_1", last_fired={TriggerName.PAYMENT_RETURNED: NOW - timedelta(days=2)})
    assert action_for(moment, policy, recent) == "trigger_cooldown"
    quiet = CustomerView(customer_key="ck_1", quiet=frozenset({Channel.IN_APP, Channel.SMS, Channel.WHATSAPP}))
    assert action_for(moment, policy, quiet) == "quiet_hours"
    soon = ContractMaturingV1(account_id="a1", product=ProductCode.SAVINGS, matures_on=NOW.date())
    [maturing] = from_account_event(soon, NOW, policy)
    assert action_for(maturing, policy, CustomerView(customer_key="ck_1")) == "marketing_permission"


class _Untouchable:
    """A store the handler must not use: any attribute read fails the test."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"handler used {name} for an event it does not act on")


class _Policies:
    def current(self) -> object:
        return default_policy()


def test_the_account_events_handler_ignores_every_type_it_does_not_declare() -> None:
    """The consumer loop passes over the types outside `EVENT_TYPES` without decoding them: that must be
    exactly what the handler does with them (nothing), for every registered type."""
    from typing import Any

    from next_best_action.consumers.account_events import AccountEventsHandler
    from prometeo.contracts import Envelope, payload_model, registered_types

    untouchable: Any = _Untouchable()
    policies: Any = _Policies()
    handler = AccountEventsHandler(untouchable, untouchable, policies, untouchable)
    skipped = [(t, v) for t, v in registered_types() if t not in AccountEventsHandler.EVENT_TYPES]
    assert ("transaction.booked", 1) in skipped and ("balance.snapshot", 1) in skipped
    for event_type, version in skipped:
        envelope = Envelope(
            type=event_type, version=version, occurred_at=NOW, customer_key="ck_00000001", source="t", payload={}
        )
        handler(envelope, payload_model(event_type, version).model_construct())
