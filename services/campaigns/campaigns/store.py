"""Redis adapter for campaigns. Key layout (docs/redis-keys.md):

campaigns:customer:{ck}:offers   hash    offer_id → OfferRecord JSON; TTL offers_ttl_s
campaigns:customer:{ck}:outbox   list    deliveries of the outbox adapter (adapters/outbox.py)
campaigns:kpi:totals             hash    counter → integer (aggregate, not personal: survives erasure)
campaigns:kpi:{dimension}        hash    "<value>|<counter>" → integer; dimension = product, channel,
                                         segment (digital archetype), campaign, advisor or
                                         trigger (the moment behind a triggered action)
campaigns:customer:{ck}:holdings string  products the customer holds here (from scores.v1), behind the
                                         products-per-customer totals
campaigns:customer:{ck}:audience string  the customer's latest scores.v1 as a campaign target sees it (features,
                                         propensities, profile, held): the audience a preview counts; TTL
                                         offers_ttl_s
campaigns:customer:{ck}:held     string  which products (sorted, comma-joined), behind the pairs below
campaigns:kpi:day:{YYYY-MM-DD}   hash    counter → integer for one business day (America/Sao_Paulo): offers,
                                         actions, contacts on the offer's decision day, outcomes and revenue
                                         on the outcome's own day (kpis.DAILY_COUNTERS; the KPI series)
campaigns:kpi:pairs              hash    "<product>|<product>" (sorted; a product with itself = its holders)
                                         → customers holding both now (aggregate: the held-together matrix)
campaigns:drill:{dimension}:{value}
                                 zset    customer_key → newest decided_at (epoch s) of an offer in that
                                         product, channel, segment or campaign: the list behind a
                                         dashboard bar (members older than offers_ttl_s pruned on read;
                                         erasure removes the customer from every one)
campaigns:experiment:{campaign}  hash    "<test|control>|<counter>" → integer (holdout groups)
campaigns:erased:{ck}            string  erasure time: offers decided before it are never recorded again
                                         (a replay of offers.v1 must not resurrect erased data); TTL 35 d
campaigns:epoch                  string  epoch marker: the views are whole (prometeo.views)
campaigns:event:{id}             string  applied-marker (event ids, and "<offer_id>.recorded|delivered")
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import redis
from pydantic import BaseModel
from redis.client import Pipeline

from campaigns.domain import kpis
from campaigns.domain.preview import AudienceMember
from prometeo import clock, keys, model_quality
from prometeo.contracts import ProductCode
from prometeo.contracts.events import OutcomeKind
from prometeo.redis_text import text

ERASED_TTL_S = 35 * 24 * 3600

# Marker and counters land together: a redelivered event is a no-op, never a double count.
# A customer's holdings count and the aggregates built on it move together, and only by the change.
_HOLDINGS = """
local old = tonumber(redis.call('GET', KEYS[1]) or '-1')
local new = tonumber(ARGV[1])
if old == new then return 0 end
if new < 0 then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[1]) end
local function known(n) if n >= 0 then return 1 else return 0 end end
local function multi(n) if n >= 2 then return 1 else return 0 end end
-- Only non-zero deltas: HINCRBY refuses "-0", which negating a Lua 0 would send.
local deltas = {customers_known = known(new) - known(old), products_held = math.max(new, 0) - math.max(old, 0),
                multi_product_customers = multi(new) - multi(old)}
for field, delta in pairs(deltas) do
  if delta ~= 0 then redis.call('HINCRBY', KEYS[2], field, delta) end
end
return 1
"""

# The products-held-together matrix moves by the change of one customer's set of products: the old set's
# pairs lose the customer, the new set's gain them (a product paired with itself counts its holders).
_PAIRS = """
local old = redis.call('GET', KEYS[1]) or ''
local new = ARGV[1]
if old == new then return 0 end
local function pairs_of(csv, delta)
  local items = {}
  for p in string.gmatch(csv, '[^,]+') do items[#items + 1] = p end
  for i = 1, #items do
    for j = i, #items do redis.call('HINCRBY', KEYS[2], items[i] .. '|' .. items[j], delta) end
  end
end
pairs_of(old, -1)
pairs_of(new, 1)
if new == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], new) end
return 1
"""

_APPLY_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) == false then return 0 end
for i = 2, #KEYS do
  redis.call('HINCRBY', KEYS[i], ARGV[2 * i - 2], ARGV[2 * i - 1])
end
return 1
"""


class OfferRecord(BaseModel):
    offer_id: str
    decision_id: str
    customer_key: str
    product: str
    channel: str
    propensity: float
    expected_value: float
    reason_codes: list[str]
    rules_passed: list[str]
    decided_at: datetime
    status: str = "recorded"  # recorded → delivered | failed | holdout | parked (→ delivered); sequence
    adapter: str | None = None
    delivered_at: datetime | None = None
    outcomes: list[str] = []
    campaign_id: str | None = None
    group: str | None = None  # holdout assignment: test | control
    segment: str | None = None  # the customer's digital archetype
    advisor_task: bool = False  # an advisor was asked to act on it (advisor channel or CRM task)
    model_version: str | None = None  # the scoring model version the decision ranked on
    # A triggered action (action.triggered): the moment behind it and what to do. Its id is the action id;
    # `product` is the action's product, or the action's name when it has none (retention, service).
    trigger: str | None = None
    action: str | None = None
    presented_to: str | None = None  # the advisor (portfolio id) the gateway showed it to

    @property
    def product_code(self) -> ProductCode | None:
        """The offer's product, None for an action about no product (a retention call)."""
        return ProductCode(self.product) if self.product in _PRODUCTS else None

    def kpi_increments(self, counter: str, amount: int = 1, channel: str | None = None) -> list[Increment]:
        """`counter` in the totals and in this offer's product, channel, segment and campaign, and on the
        business day the offer was decided."""
        return daily_increments(counter, amount, self.decided_at) + segment_increments(
            counter,
            amount,
            product=self.product if self.product_code else None,
            trigger=self.trigger,
            channel=channel or self.channel,
            segment=self.segment,
            campaign=self.campaign_id,
        )

    def drill_values(self) -> list[tuple[str, str]]:
        """(dimension, value) of every dashboard bar this offer counts in (DRILL_DIMENSIONS)."""
        values = {
            "product": self.product if self.product_code else None,
            "channel": self.channel,
            "segment": self.segment,
            "campaign": self.campaign_id,
        }
        return [(d, v) for d, v in values.items() if v]


@dataclass(frozen=True)
class DrillMember:
    """One customer behind a dashboard bar: their offers in it, how many were accepted, the newest."""

    customer_key: str
    offers: int
    accepted: int
    last_offer_at: datetime


Increment = tuple[str, str, int]  # (hash key, field, amount)
_PRODUCTS = frozenset(p.value for p in ProductCode)


class CampaignStore:
    def __init__(self, client: redis.Redis, *, processed_ttl_s: int, offers_ttl_s: int) -> None:
        self._redis = client
        self._processed_ttl_s = processed_ttl_s
        self._offers_ttl_s = offers_ttl_s
        self._apply_once = client.register_script(_APPLY_ONCE)

    # -- counters ----------------------------------------------------------------------------------
    def count_once(self, marker: str, increments: list[Increment], then_save: OfferRecord | None = None) -> bool:
        """Apply the increments unless `marker` was already applied; True when applied now.

        `then_save`: an offer saved right after, in the same round trip (a pipeline keeps the order:
        counted first, then saved), for a caller whose step marking the offer done must come last."""
        if then_save is None:
            markers, args = self._apply_once_call(marker, increments)
            return bool(self._apply_once(keys=markers, args=args))
        pipe = self._redis.pipeline(transaction=False)
        self._queue_count(pipe, marker, increments)
        self._queue_save(pipe, then_save)
        return bool(pipe.execute()[0])

    def count_many(self, items: Sequence[tuple[str, list[Increment], OfferRecord | None]]) -> None:
        """`count_once(marker, increments, then_save)` for each item, in order, in one round trip (a
        pipeline keeps the order: each counted, then saved)."""
        if len(items) == 1 and items[0][2] is None:
            self.count_once(items[0][0], items[0][1])
            return
        if not items:
            return
        pipe = self._redis.pipeline(transaction=False)
        for marker, increments, then_save in items:
            self._queue_count(pipe, marker, increments)
            if then_save is not None:
                self._queue_save(pipe, then_save)
        pipe.execute()

    def _apply_once_call(self, marker: str, increments: list[Increment]) -> tuple[list[str], list[str | int]]:
        args: list[str | int] = [self._processed_ttl_s]
        for _, field, amount in increments:
            args += [field, amount]
        return [keys.processed_event(keys.CAMPAIGNS, marker), *(k for k, _, _ in increments)], args

    def _queue_count(self, pipe: Pipeline, marker: str, increments: list[Increment]) -> None:
        markers, args = self._apply_once_call(marker, increments)
        # EVAL, not the registered script: a script in a pipeline costs redis-py a SCRIPT EXISTS round trip
        # per execute, and EVAL cannot miss Redis' script cache (a restarted Redis).
        pipe.eval(_APPLY_ONCE, len(markers), *markers, *args)

    def applied(self, marker: str) -> bool:
        return bool(self._redis.exists(keys.processed_event(keys.CAMPAIGNS, marker)))

    def counters(self) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
        """(totals, {dimension: flat "<value>|<counter>" counters})."""
        pipe = self._redis.pipeline(transaction=False)
        for dimension in ("totals", *KPI_DIMENSIONS):
            pipe.hgetall(kpi_key(dimension))
        totals, *by = ({k.decode(): int(v) for k, v in h.items()} for h in pipe.execute())
        return totals, dict(zip(KPI_DIMENSIONS, by, strict=True))

    def daily(self, days: list[date]) -> dict[date, dict[str, int]]:
        """The per-business-day counters of these days."""
        pipe = self._redis.pipeline(transaction=False)
        for day in days:
            pipe.hgetall(daily_key(day))
        return {d: {text(k): int(v) for k, v in h.items()} for d, h in zip(days, pipe.execute(), strict=True)}

    def series(self, days: int) -> kpis.KpiSeries:
        today = kpis.business_day(clock.now())
        return kpis.series(today, days, self.daily(kpis.series_days(today, days)))

    def kpis(self) -> kpis.KpiSummary:
        return kpis.summarise(*self.counters())

    def record_holdings(self, customer_key: str, products_held_here: int, products: Iterable[str] = ()) -> None:
        """The customer's current count of products held here and which (−1: forget the customer)."""
        pipe = self._redis.pipeline(transaction=False)
        self._queue_holdings(pipe, customer_key, products_held_here, products)
        pipe.execute()

    def record_scores(self, member: AudienceMember, products_held_here: list[str]) -> None:
        """A scores.v1 event's writes in one round trip: the customer's holdings here (`record_holdings`) and
        the customer as the scores describe them (`save_audience`)."""
        pipe = self._redis.pipeline(transaction=False)
        self._queue_holdings(pipe, member.customer_key, len(products_held_here), products_held_here)
        self._queue_audience(pipe, member)
        pipe.execute()

    def _queue_holdings(
        self, pipe: Pipeline, customer_key: str, products_held_here: int, products: Iterable[str]
    ) -> None:
        # EVAL, not the registered scripts: see _queue_count.
        pipe.eval(_HOLDINGS, 2, _holdings_key(customer_key), kpi_key("totals"), products_held_here)
        held = "" if products_held_here < 0 else ",".join(sorted(set(products)))
        pipe.eval(_PAIRS, 2, _held_key(customer_key), kpi_key("pairs"), held)

    def save_audience(self, member: AudienceMember) -> None:
        """The customer as their latest scores describe them (a campaign preview's audience)."""
        pipe = self._redis.pipeline(transaction=False)
        self._queue_audience(pipe, member)
        pipe.execute()

    def _queue_audience(self, pipe: Pipeline, member: AudienceMember) -> None:
        body = {
            "features": member.features,
            "propensity": member.propensity,
            "profile": member.profile,
            "held": sorted(member.held),
        }
        pipe.set(_audience_key(member.customer_key), json.dumps(body), ex=self._offers_ttl_s)

    def audience(self, limit: int) -> Iterator[AudienceMember]:
        """Up to `limit` customers with scores (a scan: a preview before launch, not a hot path)."""
        seen = 0
        for key in self._redis.scan_iter(match=keys.customer(keys.CAMPAIGNS, "*", "audience"), count=500):
            raw = self._redis.get(key)
            if raw is None:
                continue
            body = json.loads(raw)
            yield AudienceMember(
                customer_key=text(key).split(":")[2],
                features=body["features"],
                propensity=body["propensity"],
                profile=body["profile"],
                held=frozenset(body["held"]),
            )
            seen += 1
            if seen >= limit:
                return

    def held_together(self) -> dict[str, dict[str, int]]:
        """{product: {product: customers holding both}} both ways round; a product with itself = its holders."""
        matrix: dict[str, dict[str, int]] = {}
        for field, value in self._redis.hgetall(kpi_key("pairs")).items():
            a, _, b = text(field).partition("|")
            if (count := int(value)) > 0:
                matrix.setdefault(a, {})[b] = count
                matrix.setdefault(b, {})[a] = count
        return matrix

    def experiment_counters(self, campaign_id: str) -> dict[str, dict[str, int]]:
        raw = self._redis.hgetall(experiment_key(campaign_id))
        return kpis.split_segments({text(k): int(v) for k, v in raw.items()})

    # -- offers ------------------------------------------------------------------------------------
    def qualities(self) -> list[model_quality.Quality]:
        """Realised quality of every model version offers were decided on (aggregates, no personal data)."""
        out = []
        for key in self._redis.scan_iter(match=quality_key("*"), count=500):
            version = (key.decode() if isinstance(key, bytes) else str(key)).rsplit(":", 1)[-1]
            cells: dict[int, dict[str, int]] = {}
            for field, value in self._redis.hgetall(key).items():
                index, _, kind = (field.decode() if isinstance(field, bytes) else str(field)).partition("|")
                cells.setdefault(int(index), {})[kind] = int(value)
            bins = {
                i: model_quality.Bin(
                    c.get("sent", 0), c.get("accepted", 0), c.get("psum", 0) / model_quality.PROPENSITY_SCALE
                )
                for i, c in cells.items()
            }
            out.append(model_quality.quality(version, bins))
        return sorted(out, key=lambda q: q.version)

    def get_offer(self, customer_key: str, offer_id: str) -> OfferRecord | None:
        raw = self._redis.hget(_offers_key(customer_key), offer_id)
        return None if raw is None else OfferRecord.model_validate_json(raw)

    def get_offers(self, customer_key: str, offer_ids: list[str]) -> list[OfferRecord | None]:
        """`get_offer` for several of one customer's offers in one round trip, in `offer_ids`' order."""
        if not offer_ids:
            return []
        raws: list[bytes | None] = self._redis.hmget(_offers_key(customer_key), offer_ids)  # type: ignore[assignment]
        return [None if raw is None else OfferRecord.model_validate_json(raw) for raw in raws]

    def offers_unless_erased(
        self, customer_key: str, occurred_at: datetime, offer_ids: list[str]
    ) -> list[OfferRecord | None] | None:
        """`get_offers`, or None when the customer was erased after `occurred_at` (`erased_after`): both
        read in one round trip."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.get(_tombstone(customer_key))
        if offer_ids:
            pipe.hmget(_offers_key(customer_key), offer_ids)
        replies = pipe.execute()
        tombstone = replies[0]
        if tombstone is not None and occurred_at <= datetime.fromisoformat(text(tombstone)):
            return None
        raws: list[bytes | None] = replies[1] if offer_ids else []
        return [None if raw is None else OfferRecord.model_validate_json(raw) for raw in raws]

    def save_and_count(self, items: Sequence[tuple[OfferRecord | None, str, list[Increment]]]) -> None:
        """For each (record, marker, increments), in order: the record saved (unless None), then the
        increments counted once under `marker`; all in one round trip (a pipeline keeps the order)."""
        pipe = self._redis.pipeline(transaction=False)
        for record, marker, increments in items:
            if record is not None:
                self._queue_save(pipe, record)
            self._queue_count(pipe, marker, increments)
        pipe.execute()

    def save_offer(self, record: OfferRecord, then_count: tuple[str, list[Increment]] | None = None) -> None:
        """Save the offer; `then_count`: (marker, increments) counted once right after it, in the same
        round trip (a pipeline keeps the order: saved first, then counted)."""
        pipe = self._redis.pipeline(transaction=False)
        self._queue_save(pipe, record)
        if then_count is not None:
            self._queue_count(pipe, *then_count)
        pipe.execute()

    def _queue_save(self, pipe: Pipeline, record: OfferRecord) -> None:
        key = _offers_key(record.customer_key)
        pipe.hset(key, record.offer_id, record.model_dump_json())
        pipe.expire(key, self._offers_ttl_s)
        at = record.decided_at.timestamp()
        for dimension, value in record.drill_values():
            pipe.zadd(drill_key(dimension, value), {record.customer_key: at}, gt=True)

    def drill(self, dimension: str, value: str, *, offset: int, limit: int) -> tuple[int, list[DrillMember]]:
        """(how many customers, one page of them newest first) behind one bar of the dashboard."""
        key = drill_key(dimension, value)
        horizon = (clock.now() - timedelta(seconds=self._offers_ttl_s)).timestamp()
        self._redis.zremrangebyscore(key, "-inf", f"({horizon}")
        total = int(self._redis.zcard(key))
        page: list[tuple[bytes, float]] = list(
            self._redis.zrevrange(key, offset, offset + limit - 1, withscores=True)  # type: ignore[arg-type]
        )
        pipe = self._redis.pipeline(transaction=False)
        for member, _ in page:
            pipe.hvals(_offers_key(text(member)))
        members = []
        for (member, score), raw in zip(page, pipe.execute(), strict=True):
            offers = [
                r for r in (OfferRecord.model_validate_json(v) for v in raw) if (dimension, value) in r.drill_values()
            ]
            members.append(
                DrillMember(
                    customer_key=text(member),
                    offers=len(offers),
                    accepted=sum(OutcomeKind.ACCEPTED.value in r.outcomes for r in offers),
                    last_offer_at=datetime.fromtimestamp(float(score), UTC),
                )
            )
        return total, members

    def all_offers(self) -> Iterator[OfferRecord]:
        """Every recorded offer of every customer (a scan: for exports, not for request paths)."""
        for key in self._redis.scan_iter(match=keys.customer(keys.CAMPAIGNS, "*", "offers"), count=500):
            for raw in self._redis.hvals(key):
                yield OfferRecord.model_validate_json(raw)

    def offers(self, customer_key: str) -> list[OfferRecord]:
        raw = self._redis.hvals(_offers_key(customer_key))
        return sorted((OfferRecord.model_validate_json(r) for r in raw), key=lambda r: r.decided_at, reverse=True)

    # -- erasure -----------------------------------------------------------------------------------
    def erase(self, customer_key: str, erased_at: datetime) -> int:
        self.record_holdings(customer_key, -1)  # out of the aggregates before the key goes
        deleted = 0
        for key in self._redis.scan_iter(match=drill_key("*", "*"), count=500):
            self._redis.zrem(key, customer_key)
        for key in self._redis.scan_iter(match=keys.customer_pattern(keys.CAMPAIGNS, customer_key), count=500):
            deleted += self._redis.delete(key)
        # Longer than offers.v1 retention (30 d): no replayable offer predates the tombstone's expiry.
        self._redis.set(_tombstone(customer_key), erased_at.isoformat(), ex=ERASED_TTL_S)
        return deleted

    def restore_erasure(self, customer_key: str, erased_at: datetime, ttl_s: int) -> None:
        """Put a dated tombstone back (a rebuild, from customer-erasure.v1) for what is left of its TTL."""
        self._redis.set(_tombstone(customer_key), erased_at.isoformat(), ex=ttl_s)

    def erased_after(self, customer_key: str, occurred_at: datetime) -> bool:
        """True when the customer was erased after this event happened: the event must be ignored."""
        raw = self._redis.get(_tombstone(customer_key))
        return raw is not None and occurred_at <= datetime.fromisoformat(text(raw))


def kpi_key(dimension: str) -> str:
    return keys.entity(keys.CAMPAIGNS, "kpi", dimension)


KPI_DIMENSIONS = ("product", "channel", "segment", "campaign", "advisor", "trigger")
DRILL_DIMENSIONS = ("product", "channel", "segment", "campaign")


def drill_key(dimension: str, value: str) -> str:
    return keys.entity(keys.CAMPAIGNS, "drill", dimension, value)


def segment_increments(counter: str, amount: int = 1, /, **dimensions: str | None) -> list[Increment]:
    """The same counter in the totals and in each known dimension's hash (KPI_DIMENSIONS)."""
    incs = [(kpi_key("totals"), counter, amount)]
    for dimension in KPI_DIMENSIONS:
        if value := dimensions.get(dimension):
            incs.append((kpi_key(dimension), f"{value}|{counter}", amount))
    return incs


def daily_key(day: date) -> str:
    return keys.entity(keys.CAMPAIGNS, "kpi", "day", day.isoformat())


def daily_increments(counter: str, amount: int, at: datetime) -> list[Increment]:
    """`counter` on the business day of `at`, when it is one the series shows (kpis.DAILY_COUNTERS)."""
    return [(daily_key(kpis.business_day(at)), counter, amount)] if counter in kpis.DAILY_COUNTERS else []


def daily_outcome_increments(kind: OutcomeKind, revenue: Decimal | None, at: datetime) -> list[Increment]:
    incs = daily_increments(kpis.outcome_counter(kind), 1, at)
    if kind is OutcomeKind.ACCEPTED and revenue:
        incs += daily_increments(kpis.REVENUE_CENTS, int((revenue * 100).to_integral_value()), at)
    return incs


def outcome_increments(kind: OutcomeKind, revenue: Decimal | None, **dimensions: str | None) -> list[Increment]:
    incs = segment_increments(kpis.outcome_counter(kind), **dimensions)
    if kind is OutcomeKind.ACCEPTED and revenue:
        incs += segment_increments(kpis.REVENUE_CENTS, int((revenue * 100).to_integral_value()), **dimensions)
    return incs


def quality_key(model_version: str) -> str:
    """Per model version: "{bin}|sent", "{bin}|accepted", "{bin}|psum" (prometeo.model_quality)."""
    return keys.entity(keys.CAMPAIGNS, "quality", model_version)


def quality_increments(record: OfferRecord, outcome: OutcomeKind) -> list[Increment]:
    """What a delivered or accepted offer adds to its model version's realised-quality bins."""
    if record.model_version is None or record.group == "control":
        return []
    index = model_quality.bin_of(record.propensity)
    key = quality_key(record.model_version)
    if outcome is OutcomeKind.DELIVERED:
        psum = round(record.propensity * model_quality.PROPENSITY_SCALE)
        return [(key, f"{index}|sent", 1), (key, f"{index}|psum", psum)]
    if outcome is OutcomeKind.ACCEPTED:
        return [(key, f"{index}|accepted", 1)]
    return []


def experiment_key(campaign_id: str) -> str:
    return keys.entity(keys.CAMPAIGNS, "experiment", campaign_id)


def experiment_increments(campaign_id: str | None, group: str | None, counter: str) -> list[Increment]:
    return [(experiment_key(campaign_id), f"{group}|{counter}", 1)] if campaign_id and group else []


def _tombstone(customer_key: str) -> str:
    return keys.entity(keys.CAMPAIGNS, "erased", customer_key)


def _holdings_key(customer_key: str) -> str:
    return keys.customer(keys.CAMPAIGNS, customer_key, "holdings")


def _audience_key(customer_key: str) -> str:
    return keys.customer(keys.CAMPAIGNS, customer_key, "audience")


def _held_key(customer_key: str) -> str:
    return keys.customer(keys.CAMPAIGNS, customer_key, "held")


def _offers_key(customer_key: str) -> str:
    return keys.customer(keys.CAMPAIGNS, customer_key, "offers")
