from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from campaigns.domain import sequence as machine
from campaigns.domain.campaign import CampaignDefinition, Sequence, default_sequence, matches
from prometeo.contracts.events import OutcomeKind

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
SEQ = default_sequence()


def started() -> tuple[machine.SequenceState, list[machine.Action]]:
    return machine.start(SEQ, "spring", "ck_12345678", "of_1", NOW)


def test_start_runs_the_email_and_arms_its_three_day_wait() -> None:
    state, actions = started()
    assert (state.step_id, state.step_no, state.status) == ("email", 1, "active")
    assert actions == [machine.RunStep("email", 1), machine.ArmTimer(1, 3)]


def test_not_opened_in_three_days_sends_the_sms() -> None:
    state, _ = started()
    state, actions = machine.on_timer(SEQ, state, 1, NOW + timedelta(days=3))
    assert (state.step_id, state.step_no, state.path) == ("sms", 2, ["email", "sms"])
    assert actions == [machine.RunStep("sms", 2)]


def test_opened_email_cancels_the_sms_but_a_click_still_calls_the_advisor() -> None:
    state, _ = started()
    state, _ = machine.on_outcome(SEQ, state, OutcomeKind.OPENED, NOW)
    state, actions = machine.on_timer(SEQ, state, 1, NOW + timedelta(days=3))
    assert actions == [] and state.step_id == "email"
    state, actions = machine.on_outcome(SEQ, state, OutcomeKind.CLICKED, NOW + timedelta(days=4))
    assert actions == [machine.RunStep("advisor", 2)]
    assert (state.step_id, state.status) == ("advisor", "completed")  # the last step waits for nothing


def test_a_step_without_permission_is_skipped_to_its_timeout_step() -> None:
    state, _ = started()
    state, actions = machine.skip(SEQ, state, 1, NOW)
    assert (state.step_id, state.path, state.skipped) == ("sms", ["email", "sms"], ["email"])
    assert actions == [machine.RunStep("sms", 2)]
    assert machine.on_timer(SEQ, state, 1, NOW + timedelta(days=3)) == (state, [])  # the email's wait is void
    state, actions = machine.skip(SEQ, state, 2, NOW)  # no timeout on the SMS: the sequence ends
    assert (state.status, state.skipped, actions) == ("completed", ["email", "sms"], [])
    assert machine.skip(SEQ, state, 1, NOW) == (state, [])  # a stale skip does nothing


def test_a_control_customer_is_held_out_and_never_moves() -> None:
    state = machine.held_out(SEQ, "spring", "ck_12345678", "of_1", NOW)
    assert (state.status, state.path) == ("held_out", [])
    assert machine.on_outcome(SEQ, state, OutcomeKind.CLICKED, NOW) == (state, [])
    assert machine.skip(SEQ, state, 0, NOW) == (state, [])


def test_a_stale_timer_does_nothing() -> None:
    state, _ = started()
    state, _ = machine.on_outcome(SEQ, state, OutcomeKind.CLICKED, NOW)
    assert machine.on_timer(SEQ, state, 1, NOW + timedelta(days=3)) == (state, [])


@pytest.mark.parametrize("kind", [OutcomeKind.ACCEPTED, OutcomeKind.DECLINED])
def test_acceptance_or_decline_stops_the_sequence(kind: OutcomeKind) -> None:
    state, _ = started()
    state, actions = machine.on_outcome(SEQ, state, kind, NOW)
    assert (state.status, state.stopped_by, actions) == ("stopped", kind, [])
    assert machine.on_timer(SEQ, state, 1, NOW + timedelta(days=3))[1] == []
    assert machine.on_outcome(SEQ, state, OutcomeKind.CLICKED, NOW)[1] == []


def test_sequences_refuse_unknown_targets_and_channel_less_sends() -> None:
    with pytest.raises(ValidationError, match="unknown goto"):
        Sequence.model_validate({"steps": [{"id": "a", "channel": "email", "on": {"clicked": "nowhere"}}]})
    with pytest.raises(ValidationError, match="needs a channel"):
        Sequence.model_validate({"steps": [{"id": "a"}]})


def campaign(**extra: object) -> CampaignDefinition:
    return CampaignDefinition.model_validate(
        {
            "campaign_id": "spring-cards",
            "name": "Spring cards",
            "product": "credit_card",
            "starts_at": "2026-03-01T00:00:00Z",
            "ends_at": "2026-04-01T00:00:00Z",
            "budget": 100,
            **extra,
        }
    )


def test_target_filters_features_scores_and_segments() -> None:
    c = campaign(
        target={
            "all": [
                {"field": "scores.credit_card", "op": "gte", "value": 0.3},
                {"field": "features.spend_travel_90d", "op": "gt", "value": 1000},
                {"field": "segment.digital_archetype", "op": "in", "value": ["emerging", "activated"]},
            ]
        }
    )
    features, scores, segments = {"spend_travel_90d": 2500.0}, {"credit_card": 0.4}, {"digital_archetype": "activated"}
    assert matches(c, features, scores, segments, held=set())
    assert not matches(c, features, scores, segments, held={"credit_card"})
    assert not matches(c, features, {"credit_card": 0.2}, segments, held=set())
    assert not matches(c, {}, scores, segments, held=set())  # a missing feature never matches
    assert not matches(c, features, scores, {"digital_archetype": "nascent"}, held=set())
    assert c.is_active(NOW) and not c.is_active(datetime(2026, 4, 1, tzinfo=UTC))


def test_definitions_are_validated() -> None:
    with pytest.raises(ValidationError, match="ends_at must be after"):
        campaign(ends_at="2026-02-01T00:00:00Z")
    with pytest.raises(ValidationError, match="not in the campaign's channels"):
        campaign(channels=["email"])  # the default sequence also sends an SMS
    with pytest.raises(ValidationError, match="needs a list"):
        campaign(target={"all": [{"field": "segment.age_band", "op": "in", "value": "25-34"}]})
