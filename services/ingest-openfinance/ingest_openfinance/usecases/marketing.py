"""Marketing permissions use cases: per-channel opt-in/opt-out and do-not-contact registry imports.

Changes go to consent-events.v1 (for next-best-action / campaigns to honour) and then to the Redis view.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ingest_openfinance.domain.mappers.common import field_errors
from ingest_openfinance.domain.marketing import MarketingRecord, opt_in_blocked, registry_opt_out_is_new
from ingest_openfinance.domain.results import ItemResult, ItemStatus
from ingest_openfinance.models import DoNotContactEntry
from ingest_openfinance.usecases.common import UseCase
from prometeo.contracts import Channel, topics
from prometeo.contracts.events import MarketingPermission, MarketingPermissionChangedV1


class MarketingBlocked(RuntimeError):
    """An opt-in on a channel the person opted out of through a do-not-contact registry."""


class MarketingRegistry(UseCase):
    def set(self, customer_id: str, channel: Channel, permission: MarketingPermission) -> str:
        ck = self.pseudonymise(customer_id)
        current = self._consents.marketing([ck])[ck].get(channel.value)
        if permission is MarketingPermission.OPTED_IN and opt_in_blocked(current):
            raise MarketingBlocked(channel.value)
        self._record(ck, [MarketingPermissionChangedV1(channel=channel, permission=permission)])
        return ck

    def import_do_not_contact(self, registry: str, raw_entries: list[Any]) -> list[ItemResult]:
        """Each registry entry opts the person out of its channels; answered per entry."""
        results: list[ItemResult] = []
        parsed: list[tuple[int, str, DoNotContactEntry]] = []
        for index, raw in enumerate(raw_entries):
            try:
                entry = DoNotContactEntry.model_validate(raw)
            except ValidationError as exc:
                results.append(
                    ItemResult(index=index, status=ItemStatus.INVALID, reason=field_errors(exc, f"entries.{index}."))
                )
                continue
            parsed.append((index, self.pseudonymise(entry.customer_id), entry))
        current = self._consents.marketing([ck for _, ck, _ in parsed])
        for index, ck, entry in parsed:
            changes = [
                MarketingPermissionChangedV1(
                    channel=ch,
                    permission=MarketingPermission.OPTED_OUT,
                    source="do_not_contact_registry",
                    registry=registry,
                )
                for ch in dict.fromkeys(entry.channels)
                if registry_opt_out_is_new(current[ck].get(ch.value), registry)
            ]
            if changes:
                self._record(ck, changes)
            results.append(ItemResult(index=index, status=ItemStatus.ACCEPTED if changes else ItemStatus.DUPLICATE))
        return sorted(results, key=lambda r: r.index)

    def _record(self, ck: str, changes: list[MarketingPermissionChangedV1]) -> None:
        events = self._emit(topics.CONSENT_EVENTS, ck, changes)
        for payload, event in zip(changes, events, strict=True):
            self._consents.put_marketing(
                ck,
                payload.channel.value,
                MarketingRecord(
                    permission=payload.permission,
                    source=payload.source,
                    registry=payload.registry,
                    updated_at=event.occurred_at,
                ),
            )
