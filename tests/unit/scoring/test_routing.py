from __future__ import annotations

from scoring.domain.routing import serves_challenger


def test_the_challenger_serves_its_configured_share_of_customers_within_tolerance() -> None:
    customers = [f"ck_{i:06d}" for i in range(20_000)]
    for share in (0.05, 0.1, 0.3):
        served = sum(serves_challenger(ck, share) for ck in customers) / len(customers)
        assert abs(served - share) < 0.01, (share, served)


def test_a_customer_always_gets_the_same_model_and_no_share_means_no_challenger() -> None:
    assert [serves_challenger("ck_42", 0.5) for _ in range(5)] == [serves_challenger("ck_42", 0.5)] * 5
    assert not any(serves_challenger(f"ck_{i}", 0.0) for i in range(1000))
    # A larger share keeps every customer the smaller one had: raising it never flips anyone back.
    small = {i for i in range(5000) if serves_challenger(f"ck_{i}", 0.1)}
    large = {i for i in range(5000) if serves_challenger(f"ck_{i}", 0.2)}
    assert small <= large
