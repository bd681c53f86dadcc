import pytest

from gateway.domain.credentials import CredentialError, KeyRing, Principal, actor_id, extract_key
from gateway.domain.roles import Role


@pytest.mark.parametrize(
    ("x_api_key", "authorization", "expected"),
    [
        ("k1", None, "k1"),
        (None, "Bearer k1", "k1"),
        (None, "bearer   k1  ", "k1"),
        ("k1", "Bearer k1", "k1"),
        ("  ", None, None),
        (None, None, None),
        ("", "", None),
    ],
)
def test_extract_key(x_api_key: str | None, authorization: str | None, expected: str | None) -> None:
    assert extract_key(x_api_key, authorization) == expected


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "k1"])
def test_non_bearer_authorization_is_refused(authorization: str) -> None:
    with pytest.raises(CredentialError):
        extract_key(None, authorization)


def test_two_different_keys_are_refused_without_echoing_them() -> None:
    with pytest.raises(CredentialError) as err:
        extract_key("secret-one", "Bearer secret-two")
    assert "secret" not in err.value.reason


def test_keyring_maps_key_to_role_and_hashes_the_actor() -> None:
    ring = KeyRing({"alpha-key": "advisor", "beta-key": "ingest"})
    assert ring.authenticate("alpha-key") == Principal(actor=actor_id("alpha-key"), role=Role.ADVISOR)
    beta = ring.authenticate("beta-key")
    assert beta is not None and beta.role is Role.INGEST
    assert ring.authenticate("alpha-ke") is None
    assert ring.authenticate("") is None
    assert ring.authenticate("ñandú-ключ") is None  # non-ASCII input must not raise


def test_actor_id_is_short_stable_and_does_not_reveal_the_key() -> None:
    actor = actor_id("dev-admin-key")
    assert actor == actor_id("dev-admin-key")
    assert actor.startswith("key_") and len(actor) == 16
    assert "admin" not in actor
    assert actor != actor_id("dev-advisor-key")


def test_keyring_refuses_unknown_roles() -> None:
    with pytest.raises(ValueError):
        KeyRing({"k": "superuser"})
