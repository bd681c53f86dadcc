import os
import time
from pathlib import Path

import pytest

from next_best_action.domain.policy import PolicyError, load_policy, parse_policy
from next_best_action.policy_source import PolicySource
from next_best_action.settings import DEFAULT_POLICY
from prometeo.contracts import ProductCode

VALID = DEFAULT_POLICY.read_text()


def test_default_policy_is_valid() -> None:
    policy = load_policy(DEFAULT_POLICY)
    assert len(policy.products) == 10
    assert policy.products[ProductCode.CREDIT_CARD].credit


def errors_of(text: str) -> str:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "test.yaml")
    return str(info.value)


def test_negative_value_names_the_field() -> None:
    msg = errors_of(VALID.replace("savings:         {value_brl: 60", "savings:         {value_brl: -1"))
    assert "test.yaml: policy invalid" in msg
    assert "products.savings.value_brl: Input should be greater than 0" in msg


def test_unknown_product_is_refused() -> None:
    msg = errors_of(VALID.replace("home_insurance:", "boat_insurance:"))
    assert "products.boat_insurance.[key]" in msg


def test_typo_in_a_field_is_refused() -> None:
    msg = errors_of(VALID.replace("max_contacts_per_week", "max_contact_per_week"))
    assert "contact.max_contact_per_week: Extra inputs are not permitted" in msg
    assert "contact.max_contacts_per_week: Field required" in msg


def test_archetype_channel_without_factor() -> None:
    msg = errors_of(VALID.replace("{advisor: 1.3, in_app: 1.0,", "{advisor: 1.3,"))
    assert "by_archetype.activated uses channel(s) without a response factor: in_app" in msg


def test_missing_archetype() -> None:
    msg = errors_of(VALID.replace("    nascent:       [advisor]\n", ""))
    assert "by_archetype lacks archetype(s): nascent" in msg


def test_bad_age_band_order() -> None:
    msg = errors_of(
        VALID.replace('min_age_band: "25-34", max_age_band: "55-64"', 'min_age_band: "55-64", max_age_band: "25-34"')
    )
    assert "products.mortgage: Value error, min_age_band 55-64 is above max_age_band 25-34" in msg


def test_credit_limit_needs_a_bound() -> None:
    msg = errors_of(VALID.replace("{feature: days_in_arrears, max: 0}", "{feature: days_in_arrears}"))
    assert "credit_risk.limits.1: Value error, limit on 'days_in_arrears' needs max or min" in msg


def test_yaml_syntax_error() -> None:
    assert "test.yaml: not valid YAML" in errors_of("products: [unclosed")
    assert "expected a mapping at the top level" in errors_of("- a\n- b\n")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy"):
        load_policy(tmp_path / "absent.yaml")


def test_hot_reload_on_mtime_change_and_refusal_of_invalid_edits(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(VALID)
    source = PolicySource(path, check_interval_s=0)
    assert source.current().contact.max_contacts_per_week == 2

    path.write_text(VALID.replace("max_contacts_per_week: 2", "max_contacts_per_week: 5"))
    os.utime(path, (time.time() + 5, time.time() + 5))
    assert source.current().contact.max_contacts_per_week == 5

    path.write_text(VALID.replace("max_contacts_per_week: 2", "max_contacts_per_week: -1"))
    os.utime(path, (time.time() + 10, time.time() + 10))
    assert source.current().contact.max_contacts_per_week == 5  # the last valid policy stays
    assert source.last_error and "contact.max_contacts_per_week" in source.last_error


def test_service_refuses_to_start_on_invalid_policy(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("version: x\n")
    with pytest.raises(PolicyError, match="products: Field required"):
        PolicySource(path)


def test_unquoted_quiet_hour_is_refused() -> None:
    msg = errors_of(VALID.replace('start: "21:00"', "start: 21:00"))
    assert "contact.quiet_hours.start: Value error, write times as quoted strings" in msg


def test_unknown_time_zone_is_refused() -> None:
    msg = errors_of(VALID.replace("volume_timezone: America/Sao_Paulo", "volume_timezone: Mars/Olympus"))
    assert "volume_timezone: Value error, unknown time zone 'Mars/Olympus'" in msg


def test_quiet_hours_window_wraps_midnight() -> None:
    from datetime import time

    quiet = load_policy(DEFAULT_POLICY).contact.quiet_hours
    assert quiet is not None
    assert quiet.is_quiet(time(23, 0)) and quiet.is_quiet(time(7, 59)) and not quiet.is_quiet(time(8, 0))


@pytest.mark.parametrize("value", ["null", "", '""'], ids=["null", "empty", "empty-string"])
def test_quiet_hours_null_or_empty_turn_them_off(value: str) -> None:
    start = VALID.index("  quiet_hours:")
    end = VALID.index("\n\n", start)
    policy = parse_policy(VALID[:start] + f"  quiet_hours: {value}" + VALID[end:])
    assert policy.contact.quiet_hours is None
    assert load_policy(DEFAULT_POLICY).contact.quiet_hours is not None
