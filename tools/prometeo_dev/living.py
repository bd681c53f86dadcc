"""The living bank (`make run`'s last stage): a marketer's campaign with a holdout that has run for weeks.

Dev only. Nothing here writes to a service's Redis: every number the console shows is computed by the
services from events, as in production.

1. Each scored customer's latest `scores.v1` event is read as scoring published it (after a bounded wait for
   the stream to drain), and the stage waits until campaigns has consumed them all: no live score can then
   enrol one of these customers today.
2. The campaign is defined through the gateway, as a marketer would (Spanish name, a target rule, e-mail →
   SMS → advisor call, a budget, a 20 % holdout, started `WEEKS` weeks ago).
3. Backfill of its enrolments: the targeted customers' scores events are published again on `scores.v1`,
   each dated on the day the customer entered the campaign (spread over the past weeks, São Paulo business
   hours). Campaigns' own consumer enrols them (target, budget, holdout by its hash), so the offer's decision
   day is that day; their sequences start now (the test group's e-mail goes out through the real delivery).
   next-best-action ignores the copies: it holds fresher scores for the customer and never decides on older.
4. Responses are drawn from the synthetic bank's hidden behaviour: a contacted customer accepts with
   `bank.acceptance_chance` (oracle propensity × the channel's hidden response: the simulators' draw); an
   uncontacted one — the holdout, or a customer the campaign may not contact — takes the product by
   themselves with `ORGANIC_SHARE × oracle_propensity`. They are reported through the gateway's public
   outcome route with their `occurred_at`, as a CRM reporting late would, so the KPI series shows them on
   their own days.

A customer enrolled live meanwhile (rescored between steps 1 and 3) keeps today's decision: their past-dated
reports are refused (422: before the offer's decision) and left out, as they should be.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import numpy as np

from campaigns.domain.campaign import CampaignDefinition, matches
from campaigns.domain.experiment import assign
from campaigns.sequences import campaign_offer_id
from next_best_action.domain.policy import load_policy
from next_best_action.settings import DEFAULT_POLICY
from prometeo import clock
from prometeo.contracts import Channel, Envelope, ProductCode, new_event, topics
from prometeo.contracts.events import ScoresComputedV1
from prometeo.identity import customer_key
from prometeo.settings import DEV_PSEUDONYM_KEY
from prometeo_dev.demo import sign_in, wait_for_offers
from prometeo_dev.synthbank import SyntheticBank

DEMO_CAMPAIGN = "tarjeta-bienvenida-digital"
PRODUCT = ProductCode.CREDIT_CARD
WEEKS = 6
CONTROL_SHARE = 0.2
# Of those who would take the offer when contacted, the share that finds the product without it.
ORGANIC_SHARE = 0.2
# Engagement shown in the funnel (not in the bank's hidden behaviour, which decides only acceptance).
OPEN_RATE, CLICK_RATE, DECLINE_RATE = 0.45, 0.2, 0.1
SEQUENCE_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.ADVISOR)
CRM_KEY = "dev-crm-key"
SOURCE = "prometeo-dev.living"
SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def campaign_body(now: datetime, weeks: int = WEEKS, campaign_id: str = DEMO_CAMPAIGN) -> dict[str, Any]:
    """What the marketer filled in, weeks ago: a card for digital customers likely enough to want one."""
    start = datetime.combine((now.astimezone(SAO_PAULO) - timedelta(weeks=weeks)).date(), datetime.min.time())
    starts_at = start.replace(tzinfo=SAO_PAULO)
    return {
        "campaign_id": campaign_id,
        "name": "Tarjeta de crédito — bienvenida digital",
        "product": PRODUCT.value,
        "target": {"all": [{"field": f"scores.{PRODUCT.value}", "op": "gte", "value": 0.03}]},
        "channels": ["email", "sms"],
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(weeks=weeks + 4)).isoformat(),
        "budget": 5000,
        "control_share": CONTROL_SHARE,
        "sequence": {
            "steps": [
                {
                    "id": "email",
                    "channel": "email",
                    "on": {"clicked": "llamada"},
                    "timeout": {"after_days": 3, "unless": ["opened", "clicked"], "goto": "sms"},
                },
                {
                    "id": "sms",
                    "channel": "sms",
                    "on": {"clicked": "llamada"},
                    "timeout": {"after_days": 4, "goto": "llamada"},
                },
                {"id": "llamada", "action": "crm_task", "task": "advisor_follow_up"},
            ],
            "stop_on": ["accepted", "declined"],
        },
    }


# -- the drawing and dating (pure: a pinned rng and clock give the same history) -------------------------
@dataclass(frozen=True)
class Report:
    """One outcome the CRM reports: bank row, what happened, on which channel, when."""

    row: int
    outcome: str
    channel: str
    at: datetime
    revenue: float | None = None


def entry_times(n: int, starts_at: datetime, now: datetime, rng: np.random.Generator) -> list[datetime]:
    """When each customer entered: a uniform day since the start (never today's future), a business hour
    (09:00–18:00 São Paulo) — the days the series charts show."""
    days = max(1, (now.astimezone(SAO_PAULO).date() - starts_at.astimezone(SAO_PAULO).date()).days)
    out = []
    for day, minute in zip(rng.integers(0, days, n).tolist(), rng.integers(9 * 60, 18 * 60, n).tolist(), strict=True):
        local = datetime.combine(starts_at.astimezone(SAO_PAULO).date() + timedelta(days=day), datetime.min.time())
        at = (local.replace(tzinfo=SAO_PAULO) + timedelta(minutes=minute)).astimezone(UTC)
        out.append(min(at, now - timedelta(hours=1)))
    return out


def draw_history(
    bank: SyntheticBank,
    rows: Sequence[int],
    groups: Sequence[str],
    entered: Sequence[datetime],
    now: datetime,
    rng: np.random.Generator,
    permitted: Sequence[Iterable[str]] | None = None,
    product: ProductCode = PRODUCT,
    organic_share: float = ORGANIC_SHARE,
) -> list[Report]:
    """Each enrolled customer's responses, drawn from the bank's hidden behaviour (see the module docstring).
    The contact channel is the sequence's first one the customer allows marketing on (`permitted[row]`,
    default: the bank's consents; the campaign's own permission check sends on no other)."""
    column = bank.products.index(product)
    value = load_policy(DEFAULT_POLICY).products[product].value_brl
    if permitted is None:
        permitted = [c["marketing_channels"] for c in bank.consent_requests()]
    late = now - timedelta(minutes=10)

    def after(start: datetime, low_h: float, high_h: float) -> datetime:
        return min(start + timedelta(hours=float(rng.uniform(low_h, high_h))), late)

    out: list[Report] = []
    for row, group, t0 in zip(rows, groups, entered, strict=True):
        allowed = set(permitted[row])
        channel = next((c for c in SEQUENCE_CHANNELS if c.value in allowed), None)
        propensity = float(bank.oracle_propensity[row, column])
        if group == "control" or channel is None:
            # Nobody contacted them: only their own uptake, reported by the CRM when the product opens.
            if rng.random() < organic_share * propensity:
                out.append(Report(row, "accepted", (channel or Channel.EMAIL).value, after(t0, 24, 35 * 24), value))
            continue
        chance = float(bank.acceptance_chance(np.array([row]), np.array([column]), [channel])[0])
        accepted = bool(rng.random() < chance)
        last, final_channel = t0, channel.value
        if channel is Channel.EMAIL and (accepted or rng.random() < OPEN_RATE):
            last = after(t0, 1, 48)
            out.append(Report(row, "opened", channel.value, last))
        if channel is not Channel.ADVISOR and (accepted or rng.random() < CLICK_RATE):
            last = after(last, 0.1, 24)
            out.append(Report(row, "clicked", channel.value, last))
            if Channel.ADVISOR.value in allowed:  # a click hands the customer to an advisor's call
                final_channel = Channel.ADVISOR.value
        if accepted:
            out.append(Report(row, "accepted", final_channel, after(last, 24, 14 * 24), value))
        elif final_channel == Channel.ADVISOR.value or rng.random() < DECLINE_RATE:
            out.append(Report(row, "declined", final_channel, after(last, 24, 10 * 24)))
    return out


# -- the stage ---------------------------------------------------------------------------------------------
@dataclass
class LivingReport:
    campaign_id: str
    enrolled: int = 0
    reported: int = 0
    refused: int = 0
    experiment: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    existed: bool = False
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step, for the curious

    def mark(self, phase: str, since: float) -> float:
        now = time.perf_counter()
        self.phases[phase] = round(now - since, 2)
        return now

    def line(self) -> str:
        test, control = self.experiment.get("test", {}), self.experiment.get("control", {})
        lift = self.experiment.get("lift") or {}
        how = (
            "its history from an earlier run"
            if self.existed
            else f"{WEEKS} simulated weeks backfilled, {self.reported} outcomes reported in {self.seconds:.0f}s"
        )
        head = f"demo campaign {self.campaign_id} ({how})"
        if not lift:
            return f"{head}: no lift yet (test {test.get('offers', 0)}, control {control.get('offers', 0)} offers)"
        return (
            f"{head}: test {test['conversion_rate']:.1%} of {test['offers']} vs control "
            f"{control['conversion_rate']:.1%} of {control['offers']} → lift {lift['absolute'] * 100:+.1f} pp, "
            f"95 % CI [{lift['ci95_low'] * 100:+.1f}, {lift['ci95_high'] * 100:+.1f}] pp, p={lift['p_value']:.3f}"
        )


@dataclass(frozen=True)
class LiveScores:
    """Each wanted customer's newest scores.v1 payload, where it lies in the topic, and the topic's end."""

    payloads: dict[str, ScoresComputedV1]
    at: dict[str, tuple[int, int]]  # customer key → (partition, offset)
    ends: dict[int, int]


def latest_scores(bootstrap: str, wanted: Iterable[str], timeout_s: float = 20.0) -> LiveScores:
    """Read from the start of scores.v1 to its end (bounded)."""
    from kafka import KafkaConsumer, TopicPartition

    keys = {k.encode() for k in wanted}
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    raw: dict[bytes, tuple[bytes, int, int]] = {}
    try:
        partitions = [TopicPartition(topics.SCORES, p) for p in consumer.partitions_for_topic(topics.SCORES) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and any(consumer.position(tp) < ends[tp] for tp in partitions):
            for records in consumer.poll(timeout_ms=500, max_records=5000).values():
                for record in records:
                    if record.key in keys and record.value is not None:
                        raw[record.key] = (record.value, record.partition, record.offset)
    finally:
        consumer.close()
    payloads, at = {}, {}
    for key, (value, partition, offset) in raw.items():
        ck = key.decode()
        payloads[ck] = ScoresComputedV1.model_validate(Envelope.model_validate_json(value).payload)
        at[ck] = (partition, offset)
    return LiveScores(payloads, at, {tp.partition: end for tp, end in ends.items()})


def committed(bootstrap: str, group: str, partitions: Iterable[int]) -> dict[int, int]:
    """The group's committed scores.v1 offsets: everything before them it has handled."""
    from kafka import KafkaConsumer, TopicPartition

    # Never subscribes: asks the group's committed offsets without joining it.
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        return {p: consumer.committed(TopicPartition(topics.SCORES, p)) or 0 for p in partitions}
    finally:
        consumer.close(autocommit=False)


def wait_consumed(bootstrap: str, group: str, ends: dict[int, int], timeout_s: float) -> dict[int, int]:
    """Until `group` has committed scores.v1 up to `ends` (bounded); → its committed offsets."""
    deadline = time.monotonic() + timeout_s
    while True:
        done = committed(bootstrap, group, ends)
        if all(done[p] >= end for p, end in ends.items()) or time.monotonic() >= deadline:
            return done
        time.sleep(0.5)


def _experiment(gateway: str, campaign_id: str, headers: dict[str, str]) -> dict[str, Any]:
    r = httpx.get(f"{gateway}/v1/experiments/{campaign_id}", headers=headers, timeout=10)
    r.raise_for_status()
    body: dict[str, Any] = r.json()
    return body


def _settle(gateway: str, campaign_id: str, headers: dict[str, str], done: Any, timeout_s: float) -> dict[str, Any]:
    """Polls the experiment until `done(experiment)` or the time is up."""
    deadline = time.monotonic() + timeout_s
    body = _experiment(gateway, campaign_id, headers)
    while not done(body) and time.monotonic() < deadline:
        time.sleep(0.5)
        body = _experiment(gateway, campaign_id, headers)
    return body


def _post_in_order(pool: ThreadPoolExecutor, post: Any, items: list[Report]) -> list[int]:
    """Each customer's reports in their order (opened before clicked), customers in parallel; → the status
    codes in the order of `items`."""
    per_customer: dict[int, list[int]] = {}
    for n, item in enumerate(items):
        per_customer.setdefault(item.row, []).append(n)
    codes = [0] * len(items)

    def run(indices: list[int]) -> None:
        for n in indices:
            codes[n] = post(items[n])

    list(pool.map(run, per_customer.values()))
    return codes


def _calls_given(gateway: str, campaign_id: str, headers: dict[str, str], calls: int, timeout_s: float) -> None:
    """Until the campaign's advisor-call step has gone out `calls` times, bounded: during quiet hours the
    calls wait for the morning, and the answers are reported without them."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        r = httpx.get(f"{gateway}/v1/campaigns/{campaign_id}", headers=headers, timeout=10)
        step = (r.json().get("steps") or {}).get("llamada", {}) if r.status_code == 200 else {}
        if step.get("sent", 0) + step.get("failed", 0) >= calls:
            return
        time.sleep(0.5)


def run_living_demo(
    gateway: str,
    bootstrap: str,
    bank: SyntheticBank,
    *,
    now: datetime | None = None,
    seed: int | None = None,
    timeout_s: float = 45.0,
    drain_s: float = 90.0,
    workers: int = 4,
    campaign_id: str = DEMO_CAMPAIGN,
    campaigns_group: str = "campaigns",
    definitions_refresh_s: float = 2.0,
) -> LivingReport:
    from prometeo.bus.producer import EventProducer

    started = time.perf_counter()
    rng = np.random.default_rng([bank.seed if seed is None else seed, 1405])
    token = sign_in(gateway, "carla.marketing")
    marketer = {"Authorization": f"Bearer {token}"}
    report = LivingReport(campaign_id)
    if httpx.get(f"{gateway}/v1/campaigns/{campaign_id}", headers=marketer, timeout=10).status_code == 200:
        # A second run on the same Redis: its history is there already.
        report.existed, report.experiment = True, _experiment(gateway, campaign_id, marketer)
        return report
    # The bank's stream may still be draining through the services (make run gets here right after the first
    # recommendations): a bounded wait for it, so most customers have been scored and campaigns has seen them.
    wait_for_offers(gateway, timeout=drain_s, settle_s=3)
    lap = report.mark("drain", started)
    deadline = lap + timeout_s  # the backfill's own time
    secret = os.environ.get("PROMETEO_PSEUDONYM_KEY", DEV_PSEUDONYM_KEY)
    ids = bank.customers["customer_id"].tolist()
    row_of = {customer_key(cid, secret): i for i, cid in enumerate(ids)}
    live = latest_scores(bootstrap, row_of)
    lap = report.mark("read_scores", lap)
    wait_consumed(bootstrap, campaigns_group, live.ends, max(1.0, (deadline - time.perf_counter()) / 4))
    lap = report.mark("campaigns_caught_up", lap)

    now = now or clock.now()
    body = campaign_body(now, campaign_id=campaign_id)
    definition = CampaignDefinition.model_validate(body)
    httpx.post(f"{gateway}/v1/campaigns", json=body, headers=marketer, timeout=10).raise_for_status()
    # Only customers whose live scores campaigns had handled before the campaign existed: none of those can
    # have enrolled them today (one still behind, on a machine too busy to catch up, waits for a later run).
    handled = committed(bootstrap, campaigns_group, live.ends)
    chosen = []
    for ck, s in live.payloads.items():
        partition, offset = live.at[ck]
        if offset >= handled.get(partition, 0):
            continue
        held = {p.value for p in [*s.held_products, *s.held_elsewhere]}
        if matches(definition, s.features, {x.product.value: x.propensity for x in s.scores}, s.profile, held):
            chosen.append(ck)
    chosen.sort(key=lambda ck: row_of[ck])  # a stable order: the same seed draws the same history
    entered = entry_times(len(chosen), definition.starts_at, now, rng)
    # Campaigns reloads its definitions every DEFINITIONS_REFRESH_S (2 s): a copy consumed before that would
    # enrol nobody. Nothing observable says the reload happened, so the stage waits it out.
    time.sleep(definitions_refresh_s + 1)
    producer = EventProducer(bootstrap, SOURCE)
    try:
        futures = [
            producer.publish(
                topics.SCORES, new_event(live.payloads[ck], customer_key=ck, source=SOURCE, occurred_at=at)
            )
            for ck, at in zip(chosen, entered, strict=True)
        ]
        for future in futures:
            future.get(timeout=producer.ack_wait_s)
    finally:
        producer.close()
    settled = _settle(
        gateway,
        campaign_id,
        marketer,
        lambda e: e["test"]["offers"] + e["control"]["offers"] >= len(chosen),
        max(1.0, (deadline - time.perf_counter()) / 2),
    )
    report.enrolled = settled["test"]["offers"] + settled["control"]["offers"]
    lap = report.mark("backfill_enrolled", lap)

    groups = [assign(ck, campaign_id, CONTROL_SHARE) for ck in chosen]
    history = draw_history(bank, [row_of[ck] for ck in chosen], groups, entered, now, rng)
    crm = httpx.Client(base_url=gateway, headers={"X-API-Key": CRM_KEY}, timeout=15)
    by_row = {row_of[ck]: ck for ck in chosen}

    def post(item: Report) -> int:
        body = {
            "offer_id": campaign_offer_id(campaign_id, by_row[item.row]),
            "product": PRODUCT.value,
            "outcome": item.outcome,
            "channel": item.channel,
            "occurred_at": item.at.isoformat(),
            **({"revenue": f"{item.revenue:.2f}"} if item.revenue is not None else {}),
        }
        return crm.post(f"/v1/customers/{ids[item.row]}/outcomes", json=body).status_code

    # Engagement first, then the answers: a click hands the customer to an advisor's call (the sequence's
    # CRM task), and an answer given on that call counts for adherence only once the task was given.
    engagement = [i for i in history if i.outcome in ("opened", "clicked")]
    answers = [i for i in history if i.outcome not in ("opened", "clicked")]
    calls = {i.row for i in answers if i.channel == Channel.ADVISOR.value}
    with crm, ThreadPoolExecutor(max_workers=workers) as pool:
        codes = _post_in_order(pool, post, engagement)
        lap = report.mark("engagement_reported", lap)
        _calls_given(gateway, campaign_id, marketer, len(calls), min(10.0, max(1.0, (deadline - lap) / 3)))
        lap = report.mark("advisor_calls_given", lap)
        codes += _post_in_order(pool, post, answers)
    ordered = engagement + answers
    unexpected = [c for c in codes if c not in (202, 404, 422)]
    if unexpected:
        raise RuntimeError(f"outcome reports failed: {sorted(set(unexpected))}")
    report.reported = codes.count(202)
    lap = report.mark("outcomes_reported", lap)
    report.refused = len(codes) - report.reported
    accepted = sum(1 for item, code in zip(ordered, codes, strict=True) if code == 202 and item.outcome == "accepted")
    report.experiment = _settle(
        gateway,
        campaign_id,
        marketer,
        lambda e: e["test"]["conversions"] + e["control"]["conversions"] >= accepted,
        max(1.0, deadline - time.perf_counter()),
    )
    report.mark("outcomes_counted", lap)
    report.seconds = time.perf_counter() - started
    return report


def main(argv: list[str] | None = None) -> int:
    import argparse

    from prometeo_dev.synthbank import generate_bank

    parser = argparse.ArgumentParser(prog="python -m prometeo_dev.living", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--campaign-id", default=DEMO_CAMPAIGN)
    args = parser.parse_args(argv)
    bank = generate_bank(args.customers, seed=args.seed)
    report = run_living_demo(args.gateway, args.bootstrap, bank, campaign_id=args.campaign_id)
    print(report.line())
    print(json.dumps(report.experiment, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
