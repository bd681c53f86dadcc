import pytest

from campaigns.domain.circuit_breaker import BreakerState, CircuitBreaker


def test_opens_after_consecutive_failures_and_fails_fast() -> None:
    breaker = CircuitBreaker(failure_threshold=3, reset_after_s=10)
    for t in (0, 1):
        assert breaker.allow(t)
        breaker.record_failure(t)
    assert breaker.state is BreakerState.CLOSED
    breaker.record_failure(2)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow(5) and not breaker.allow(11.9)


def test_a_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_after_s=10)
    breaker.record_failure(0)
    breaker.record_success()
    breaker.record_failure(1)
    assert breaker.state is BreakerState.CLOSED


def test_half_open_allows_one_trial_which_closes_or_reopens() -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_after_s=10)
    breaker.record_failure(0)
    assert breaker.allow(10)  # reset time elapsed: one trial
    assert breaker.state is BreakerState.HALF_OPEN
    assert not breaker.allow(10.1)  # a second caller waits for the trial's result
    breaker.record_failure(10.2)
    assert breaker.state is BreakerState.OPEN and not breaker.allow(15)
    assert breaker.allow(20.2)
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED and breaker.allow(20.3) and breaker.allow(20.4)


def test_invalid_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=0)
