"""The marketing-permission view over a real Redis: consents grant, explicit choices override."""

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
)
from prometeo.permissions import MarketingPermissions

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
    }
