import pytest

from gateway.domain.identifiers import InvalidCustomerId, to_customer_key
from prometeo.identity import customer_key

SECRET = "unit-test-secret"


def test_bank_ids_become_customer_keys_regardless_of_formatting() -> None:
    expected = customer_key("12345678909", SECRET)
    assert to_customer_key("123.456.789-09", SECRET) == expected
    assert to_customer_key("12345678909", SECRET) == expected
    assert expected.startswith("ck_") and "12345678909" not in expected


def test_customer_keys_pass_through_unchanged() -> None:
    ck = customer_key("98765432100", SECRET)
    assert to_customer_key(ck, SECRET) == ck
    assert to_customer_key("ck_test-0a1b2c3d4e", SECRET) == "ck_test-0a1b2c3d4e"


@pytest.mark.parametrize("bad", ["ck_", "ck_a", "ck_has space", "ck_semi;colon", "---", "9" * 65])
def test_malformed_identifiers_are_refused(bad: str) -> None:
    with pytest.raises(InvalidCustomerId):
        to_customer_key(bad, SECRET)
