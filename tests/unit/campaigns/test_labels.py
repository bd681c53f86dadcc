from datetime import UTC, datetime, timedelta

from campaigns.domain.labels import label_rows
from campaigns.store import OfferRecord

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def record(
    offer_id: str,
    *,
    days_ago: float,
    status: str = "delivered",
    outcomes: tuple[str, ...] = (),
    group: str | None = "test",
    product: str = "credit_card",
) -> OfferRecord:
    return OfferRecord(
        offer_id=offer_id,
        decision_id="dc_1",
        customer_key=f"ck_{offer_id}",
        product=product,
        channel="sms",
        propensity=0.3,
        expected_value=10.0,
        reason_codes=[],
        rules_passed=[],
        decided_at=NOW - timedelta(days=days_ago),
        status=status,
        outcomes=list(outcomes),
        group=group,
        campaign_id="spring",
    )


def test_answered_or_expired_offers_are_examples_the_rest_wait_or_never_count() -> None:
    records = [
        record("accepted_late", days_ago=40, outcomes=("delivered", "opened", "accepted")),
        record("declined_recent", days_ago=2, outcomes=("declined",)),
        record("silent_old", days_ago=31, outcomes=("opened",)),
        record("silent_recent", days_ago=5),  # still inside the horizon: unknown yet
        record("held_out", days_ago=40, status="holdout", group="control", outcomes=("accepted",)),
        record("never_sent", days_ago=40, status="failed"),
        record("other_product", days_ago=40, product="savings", outcomes=("accepted",)),
        record("triggered", days_ago=40, outcomes=("accepted",)).model_copy(update={"trigger": "contract_maturing"}),
    ]
    rows = list(label_rows(records, NOW, timedelta(days=30), product="credit_card"))
    assert [(r.offer_id, r.accepted) for r in rows] == [("accepted_late", 1), ("declined_recent", 0), ("silent_old", 0)]
    assert rows[0].label_time == NOW - timedelta(days=40) and rows[0].customer_key == "ck_accepted_late"
    assert len(list(label_rows(records, NOW, timedelta(days=30)))) == 4  # every product
