"""The marketing-permission view over a real Redis: consents grant, explicit choices override; no contact
without a marketing-purpose consent, while the customer objects to profiling, or when their country's
do-not-contact registry lists them."""

from collections.abc import Callable

import pytest
import redis as redis_lib

from prometeo import keys
from prometeo.contracts import Channel, ProductCode
from prometeo.contracts.events import (
    ConsentChangedV1,
    ConsentGrantedV1,
    ConsentStatus,
    DataScope,
    MarketingPermission,
    MarketingPermissionChangedV1,
    OutcomeKind,
    OutcomeRecordedV1,
    ProfilingObjectionChangedV1,
    Purpose,
)
from prometeo.permissions import ContactRefusal, MarketingPermissions

pytestmark = pytest.mark.integration


def granted(consent_id: str, *channels: Channel) -> ConsentGrantedV1:
    return ConsentGrantedV1(
        consent_id=consent_id, institution="bank-x", scopes=[DataScope.ACCOUNTS], marketing_channels=list(channels)
    )


def choice(channel: Channel, permission: MarketingPermission) -> MarketingPermissionChangedV1:
    return MarketingPermissionChangedV1(channel=channel, permission=permission)


def test_consents_grant_and_explicit_choices_override_until_the_next_choice(
    redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    view, ck = MarketingPermissions(redis, "test"), unique("ck")
    assert view.channels(ck) == frozenset()
    assert view.apply(ck, granted("c-a", Channel.SMS, Channel.EMAIL))
    assert view.apply(ck, granted("c-b", Channel.IN_APP))
    assert view.channels(ck) == {Channel.SMS, Channel.EMAIL, Channel.IN_APP}
    view.apply(ck, choice(Channel.SMS, MarketingPermission.OPTED_OUT))
    view.apply(ck, granted("c-c", Channel.SMS))  # a later consent does not undo an explicit opt-out
    assert view.channels(ck) == {Channel.EMAIL, Channel.IN_APP}
    view.apply(ck, choice(Channel.WHATSAPP, MarketingPermission.OPTED_IN))
    view.apply(ck, ConsentChangedV1(consent_id="c-a", status=ConsentStatus.REVOKED))
    assert view.channels(ck) == {Channel.IN_APP, Channel.WHATSAPP}
    view.apply(ck, choice(Channel.SMS, MarketingPermission.OPTED_IN))
    assert view.channels(ck) == {Channel.IN_APP, Channel.WHATSAPP, Channel.SMS}
    # Unrelated payloads change nothing; everything lives under the customer's prefix (erasure drops it).
    assert not view.apply(ck, OutcomeRecordedV1(offer_id="o", product=ProductCode.SAVINGS, outcome=OutcomeKind.OPENED))
    assert set(redis.scan_iter(match=keys.customer_pattern("test", ck))) == {
        keys.customer("test", ck, "permissions").encode(),
        keys.customer("test", ck, "marketing").encode(),
        keys.customer("test", ck, "purposes").encode(),
    }


def test_no_contact_without_a_marketing_purpose_or_while_profiling_is_objected(
    redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    view, ck = MarketingPermissions(redis, "test"), unique("ck")
    analytics_only = ConsentGrantedV1(
        consent_id="c-a",
        institution="bank-x",
        scopes=[DataScope.ACCOUNTS],
        purposes=[Purpose.CROSS_SELL_ANALYTICS],
        marketing_channels=[Channel.SMS],
    )
    view.apply(ck, analytics_only)
    view.apply(ck, choice(Channel.EMAIL, MarketingPermission.OPTED_IN))
    assert view.channels(ck) == frozenset()  # channels and opt-ins count for nothing without the purpose
    assert view.refusal(ck, Channel.EMAIL) is ContactRefusal.NO_MARKETING_CONSENT
    view.apply(ck, granted("c-m", Channel.SMS))  # channels without named purposes: a marketing consent
    assert view.channels(ck) == {Channel.SMS, Channel.EMAIL} and view.refusal(ck, Channel.SMS) is None
    view.apply(ck, ProfilingObjectionChangedV1(objected=True))
    assert view.channels(ck) == frozenset() and view.refusal(ck, Channel.SMS) is ContactRefusal.PROFILING_OBJECTED
    view.apply(ck, ProfilingObjectionChangedV1(objected=False))
    view.apply(ck, ConsentChangedV1(consent_id="c-m", status=ConsentStatus.EXPIRED))
    assert view.refusal(ck, Channel.EMAIL) is ContactRefusal.NO_MARKETING_CONSENT


@pytest.mark.parametrize("jurisdiction", ["BR", "MX", "CO", "AR", "CL"])
def test_a_customer_of_each_country_is_checked_against_their_countrys_registry(
    redis: redis_lib.Redis, unique: Callable[[str], str], jurisdiction: str
) -> None:
    view, ck = MarketingPermissions(redis, "test"), unique("ck")
    consent = ConsentGrantedV1(
        consent_id="c-1",
        institution="bank-x",
        scopes=[DataScope.ACCOUNTS],
        marketing_channels=[Channel.SMS, Channel.ADVISOR, Channel.EMAIL],
        jurisdiction=jurisdiction,
    )
    view.apply(ck, consent)
    for channel in (Channel.SMS, Channel.ADVISOR):
        view.apply(
            ck,
            MarketingPermissionChangedV1(
                channel=channel,
                permission=MarketingPermission.OPTED_OUT,
                source="do_not_contact_registry",
                registry="reus",
            ),
        )
    # A later explicit opt-in (a bank clerk's mistake, say) does not beat the country's registry.
    view.apply(ck, choice(Channel.SMS, MarketingPermission.OPTED_IN))
    expected = {
        "MX": (ContactRefusal.DO_NOT_CONTACT_REGISTRY, {Channel.EMAIL}),
        "BR": (None, {Channel.EMAIL, Channel.SMS}),
        "CO": (None, {Channel.EMAIL, Channel.SMS}),
        "AR": (None, {Channel.EMAIL, Channel.SMS}),  # Argentina checks its own registry, not REUS
        "CL": (None, {Channel.EMAIL, Channel.SMS}),
    }[jurisdiction]
    assert (view.refusal(ck, Channel.SMS), view.channels(ck)) == expected
    assert view.refusal(ck, Channel.ADVISOR) is (
        ContactRefusal.DO_NOT_CONTACT_REGISTRY if jurisdiction == "MX" else ContactRefusal.CHANNEL_NOT_PERMITTED
    )
