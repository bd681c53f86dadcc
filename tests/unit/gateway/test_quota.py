from gateway.domain.quota import Quota


def test_within_limit_headers() -> None:
    quota = Quota(limit=10, used=3, reset_s=17)
    assert not quota.exceeded
    assert quota.headers() == {
        "RateLimit-Limit": "10",
        "RateLimit-Remaining": "7",
        "RateLimit-Reset": "17",
        "RateLimit-Policy": "10;w=60",
        "RateLimit": '"default";r=7;t=17',
    }


def test_the_limit_itself_is_allowed_and_one_more_is_not() -> None:
    assert not Quota(limit=10, used=10, reset_s=5).exceeded
    over = Quota(limit=10, used=11, reset_s=5)
    assert over.exceeded
    assert over.remaining == 0
    assert over.headers()["Retry-After"] == "5"


def test_reset_is_never_zero_so_clients_do_not_spin() -> None:
    assert Quota(limit=1, used=2, reset_s=0).headers()["Retry-After"] == "1"
