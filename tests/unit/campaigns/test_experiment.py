import pytest

from campaigns.domain.experiment import assign, bucket, two_proportion_ztest


def test_assignment_is_deterministic_and_campaign_specific() -> None:
    assert assign("ck_abcdefgh", "spring", 0.3) == assign("ck_abcdefgh", "spring", 0.3)
    assert bucket("ck_abcdefgh", "spring") != bucket("ck_abcdefgh", "autumn")
    assert assign("ck_abcdefgh", "spring", 0.0) == "test"


@pytest.mark.parametrize("share", [0.1, 0.5])
def test_control_share_within_tolerance_on_10k_keys(share: float) -> None:
    keys = [f"ck_{i:08d}" for i in range(10_000)]
    control = sum(assign(k, "campaign-x", share) == "control" for k in keys) / len(keys)
    # ±4 standard errors of a binomial share at n = 10 000 (0.012 at 0.1, 0.02 at 0.5)
    assert abs(control - share) < 4 * (share * (1 - share) / len(keys)) ** 0.5


def test_control_share_is_validated() -> None:
    with pytest.raises(ValueError):
        assign("ck_abcdefgh", "c", 1.0)


def test_ztest_against_hand_computed_case_not_significant() -> None:
    # p_t = .12, p_c = .10, pooled .11; SE0 = sqrt(.11·.89·(2/1000)) = .013993 → z = 1.4293, p = .1529
    # SE = sqrt(.12·.88/1000 + .1·.9/1000) = .013986 → CI = .02 ± 1.96·.013986 = (-.00741, .04741)
    lift = two_proportion_ztest(120, 1000, 100, 1000)
    assert lift.absolute == pytest.approx(0.02)
    assert lift.relative == pytest.approx(0.2)
    assert lift.z == pytest.approx(1.4293, abs=1e-4)
    assert lift.p_value == pytest.approx(0.1529, abs=1e-4)
    assert (lift.ci_low, lift.ci_high) == (pytest.approx(-0.00741, abs=1e-5), pytest.approx(0.04741, abs=1e-5))


def test_ztest_against_hand_computed_case_significant() -> None:
    # p_t = .20, p_c = .15, pooled .175; SE0 = sqrt(.175·.825·.002) = .016993 → z = 2.9424, p = .00326
    # SE = sqrt(.2·.8/1000 + .15·.85/1000) = .016956 → CI = .05 ± .033233 = (.01677, .08323)
    lift = two_proportion_ztest(200, 1000, 150, 1000)
    assert lift.z == pytest.approx(2.9424, abs=1e-4)
    assert lift.p_value == pytest.approx(0.00326, abs=1e-5)
    assert (lift.ci_low, lift.ci_high) == (pytest.approx(0.01677, abs=1e-5), pytest.approx(0.08323, abs=1e-5))


def test_ztest_unequal_groups() -> None:
    # 30/200 vs 10/100: pooled 40/300; SE0 = sqrt(.13333·.86667·(1/200 + 1/100)) = .041633 → z = 1.2010
    lift = two_proportion_ztest(30, 200, 10, 100)
    assert lift.z == pytest.approx(1.2010, abs=1e-4)
    assert lift.p_value == pytest.approx(0.2298, abs=1e-4)
    assert lift.ci_low == pytest.approx(0.05 - 1.959964 * 0.0392110, abs=1e-5)


def test_ztest_degenerate_cases() -> None:
    same = two_proportion_ztest(0, 50, 0, 50)
    assert (same.z, same.p_value, same.relative) == (0.0, 1.0, None)
    negative = two_proportion_ztest(100, 1000, 120, 1000)
    assert negative.z == pytest.approx(-1.4293, abs=1e-4) and negative.p_value == pytest.approx(0.1529, abs=1e-4)
    with pytest.raises(ValueError):
        two_proportion_ztest(1, 0, 1, 10)
    with pytest.raises(ValueError):
        two_proportion_ztest(11, 10, 1, 10)
