"""Redis adapter for campaign definitions, enrolments and sequence states (docs: README, Redis table).

campaigns:definitions:all              hash    campaign_id → CampaignDefinition JSON (immutable once created)
campaigns:campaign:{id}:enrolled       string  customers enrolled (the volume budget counts these)
campaigns:campaign:{id}:steps          hash    "<step>|<sent|failed|suppressed|refused:<reason>>" → integer
campaigns:campaign:{id}:paused         string  present while the campaign is paused
campaigns:customer:{ck}:enrolled       hash    campaign_id → offer_id (once per customer and campaign)
campaigns:customer:{ck}:sequences      hash    offer_id → SequenceState JSON
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import redis

from campaigns.domain.campaign import CampaignDefinition
from campaigns.domain.sequence import SequenceState
from campaigns.schedule import schedule_key
from campaigns.store import OfferRecord
from prometeo import keys
from prometeo.redis_text import text

T = TypeVar("T")

# Budget, enrolment, offer record, first state and first job land together: a crash never leaves a
# customer enrolled without a sequence, and concurrent replicas never overshoot the budget.
_ENROL = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[3]) then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[4])
redis.call('HSET', KEYS[4], ARGV[2], ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[3], ARGV[6])
redis.call('EXPIRE', KEYS[4], ARGV[6])
for i = 7, #ARGV, 2 do redis.call('ZADD', KEYS[5], ARGV[i + 1], ARGV[i]) end
return 1
"""


class SequenceStore:
    def __init__(self, client: redis.Redis, *, ttl_s: int) -> None:
        self._redis = client
        self._ttl_s = ttl_s
        self._enrol = client.register_script(_ENROL)

    # -- definitions -------------------------------------------------------------------------------
    def create(self, campaign: CampaignDefinition) -> bool:
        """False when the id is taken (definitions are immutable: a change is a new campaign)."""
        return bool(self._redis.hsetnx(_definitions(), campaign.campaign_id, campaign.model_dump_json()))

    def definition(self, campaign_id: str) -> CampaignDefinition | None:
        raw = self._redis.hget(_definitions(), campaign_id)
        return None if raw is None else CampaignDefinition.model_validate_json(raw)

    def definitions(self) -> list[CampaignDefinition]:
        raw = self._redis.hvals(_definitions())
        return sorted((CampaignDefinition.model_validate_json(r) for r in raw), key=lambda c: c.starts_at)

    def set_paused(self, campaign_id: str, paused: bool) -> None:
        key = _campaign(campaign_id, "paused")
        if paused:
            self._redis.set(key, "1")
        else:
            self._redis.delete(key)

    def paused(self, campaign_ids: list[str]) -> set[str]:
        if not campaign_ids:
            return set()
        flags = self._redis.mget([_campaign(c, "paused") for c in campaign_ids])
        return {c for c, flag in zip(campaign_ids, flags, strict=True) if flag is not None}

    def enrolled(self, campaign_id: str) -> int:
        return int(self._redis.get(_campaign(campaign_id, "enrolled")) or 0)

    def step_counts(self, campaign_id: str) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for field, value in self._redis.hgetall(_campaign(campaign_id, "steps")).items():
            step, _, counter = text(field).partition("|")
            out.setdefault(step, {})[counter] = int(value)
        return out

    def step_counter(self, campaign_id: str) -> str:
        return _campaign(campaign_id, "steps")

    # -- enrolment and states ----------------------------------------------------------------------
    def enrol(
        self, campaign: CampaignDefinition, record: OfferRecord, state: SequenceState, jobs: list[tuple[str, float]]
    ) -> int:
        """1 enrolled now, 0 already enrolled, -1 budget spent."""
        ck = record.customer_key
        args: list[str | int | float] = [
            campaign.campaign_id,
            record.offer_id,
            campaign.budget,
            record.model_dump_json(),
            state.model_dump_json(),
            self._ttl_s,
        ]
        for member, due in jobs:
            args += [member, due]
        return int(
            self._enrol(
                keys=[
                    _customer(ck, "enrolled"),
                    _campaign(campaign.campaign_id, "enrolled"),
                    keys.customer(keys.CAMPAIGNS, ck, "offers"),
                    _customer(ck, "sequences"),
                    schedule_key(),
                ],
                args=args,
            )
        )

    def state(self, customer_key: str, offer_id: str) -> SequenceState | None:
        raw = self._redis.hget(_customer(customer_key, "sequences"), offer_id)
        return None if raw is None else SequenceState.model_validate_json(raw)

    def offer_for(self, customer_key: str, campaign_id: str) -> str | None:
        raw = self._redis.hget(_customer(customer_key, "enrolled"), campaign_id)
        return None if raw is None else text(raw)

    def update(
        self, customer_key: str, offer_id: str, change: Callable[[SequenceState], tuple[SequenceState, T]]
    ) -> tuple[SequenceState, T] | None:
        """Compare-and-set: the consumer (outcomes) and the scheduler (timers) may race on one state."""
        key = _customer(customer_key, "sequences")
        with self._redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.hget(key, offer_id)
                    if raw is None:
                        pipe.unwatch()
                        return None
                    new, result = change(SequenceState.model_validate_json(raw))
                    pipe.multi()
                    pipe.hset(key, offer_id, new.model_dump_json())
                    pipe.execute()
                    return new, result
                except redis.WatchError:
                    continue


def _definitions() -> str:
    return keys.entity(keys.CAMPAIGNS, "definitions", "all")


def _campaign(campaign_id: str, part: str) -> str:
    return keys.entity(keys.CAMPAIGNS, "campaign", campaign_id, part)


def _customer(customer_key: str, part: str) -> str:
    return keys.customer(keys.CAMPAIGNS, customer_key, part)
