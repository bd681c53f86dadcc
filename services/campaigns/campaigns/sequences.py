"""Runs campaign sequences: enrols targeted customers, carries out the state machine's actions (run a
step, arm a timer) through the durable schedule, and feeds it outcomes and timers.

Every step runs as a scheduled job, so a failed send is retried with backoff (never lost) and a wait
survives restarts: the timer is a job in the Redis sorted set, due at `now + days × sequence_day_s`.
A step is sent once: its idempotency key is `<offer_id>.<step_no>.<step>` and a sent-marker is kept.

Contact policy at send time, not only at enrolment (a sequence runs for days):
  * A/B holdout: the campaign's `control_share` of entering customers is enrolled as `held_out` and
    sent nothing; both groups count in the campaign's experiment.
  * Marketing permission: a step whose channel the customer has not granted (or has opted out of) is
    not sent; it is counted `suppressed` and the sequence moves on as if its wait had ended.
  * Quiet hours: a step on an interrupting channel during the customer's local quiet hours waits
    (`Deferred`) until they end. A paused campaign holds its due steps and enrols nobody.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from campaigns.adapters.base import PermanentDeliveryError
from campaigns.delivery import Deliverer, delivery_for
from campaigns.domain import kpis
from campaigns.domain import sequence as machine
from campaigns.domain.campaign import CampaignDefinition, Sequence, matches
from campaigns.domain.experiment import assign
from campaigns.schedule import Deferred, Job, Schedule
from campaigns.sequence_store import SequenceStore
from campaigns.store import CampaignStore, OfferRecord, experiment_increments
from prometeo import clock
from prometeo.contracts import Channel
from prometeo.contracts.events import OutcomeKind, ScoresComputedV1
from prometeo.permissions import MarketingPermissions
from prometeo.quiet_hours import QuietHours

log = logging.getLogger(__name__)
Transition = Callable[[Sequence, machine.SequenceState], tuple[machine.SequenceState, list[machine.Action]]]


def campaign_offer_id(campaign_id: str, customer_key: str) -> str:
    return "of_" + uuid.uuid5(uuid.NAMESPACE_URL, f"prometeo:campaign:{campaign_id}:{customer_key}").hex


class SequenceRunner:
    def __init__(
        self,
        store: CampaignStore,
        sequences: SequenceStore,
        schedule: Schedule,
        deliverer: Deliverer,
        *,
        day_s: float,
        permissions: MarketingPermissions,
        quiet_hours: QuietHours | None = None,
        definitions_refresh_s: float = 2.0,
        clock: Callable[[], float] = clock.timestamp,
        hold_s: float = 60.0,
        permission_wait_s: float = 3600.0,
    ) -> None:
        """`hold_s`: how often a paused campaign's due step is looked at again. `permission_wait_s`: how
        long a step waits for the customer's permissions to be known (consent events may lag scores)."""
        self._store = store
        self._sequences = sequences
        self._schedule = schedule
        self._deliverer = deliverer
        self._day_s = day_s
        self._refresh_s = definitions_refresh_s
        self._clock = clock
        self._permissions = permissions
        self._quiet_hours = quiet_hours
        self._hold_s = hold_s
        self._permission_wait_s = permission_wait_s
        self._cache: tuple[float, dict[str, CampaignDefinition], set[str]] = (-1e18, {}, set())

    # -- definitions -------------------------------------------------------------------------------
    def _refresh(self) -> tuple[dict[str, CampaignDefinition], set[str]]:
        loaded_at, cached, paused = self._cache
        if self._clock() - loaded_at >= self._refresh_s:
            cached = {c.campaign_id: c for c in self._sequences.definitions()}
            paused = self._sequences.paused(list(cached))
            self._cache = (self._clock(), cached, paused)
        return cached, paused

    def _definitions(self) -> dict[str, CampaignDefinition]:
        return self._refresh()[0]

    def _paused(self, campaign_id: str) -> bool:
        return campaign_id in self._refresh()[1]

    def _definition(self, campaign_id: str) -> CampaignDefinition | None:
        return self._definitions().get(campaign_id) or self._sequences.definition(campaign_id)

    # -- enrolment (scores.v1) ---------------------------------------------------------------------
    def consider(self, customer_key: str, scores: ScoresComputedV1, decided_at: datetime) -> list[str]:
        """Enrol the customer in every active campaign whose target they match; → campaign ids entered."""
        now = clock.now()
        propensity = {s.product.value: s.propensity for s in scores.scores}
        held = {p.value for p in [*scores.held_products, *scores.held_elsewhere]}
        entered = []
        for campaign in self._definitions().values():
            if not campaign.is_active(now) or self._paused(campaign.campaign_id):
                continue
            if not matches(campaign, scores.features, propensity, scores.profile, held):
                continue
            if self._sequences.offer_for(customer_key, campaign.campaign_id) is not None:
                continue
            if self._enrol(campaign, customer_key, scores, decided_at) == 1:
                entered.append(campaign.campaign_id)
        return entered

    def _enrol(
        self, campaign: CampaignDefinition, customer_key: str, scores: ScoresComputedV1, decided_at: datetime
    ) -> int:
        offer_id = campaign_offer_id(campaign.campaign_id, customer_key)
        score = next((s for s in scores.scores if s.product == campaign.product), None)
        first = campaign.sequence.steps[0]
        group = assign(customer_key, campaign.campaign_id, campaign.control_share)
        record = OfferRecord(
            offer_id=offer_id,
            decision_id=f"cp_{campaign.campaign_id}",
            customer_key=customer_key,
            product=campaign.product.value,
            channel=first.channel.value if first.channel else "advisor",
            propensity=score.propensity if score else 0.0,
            expected_value=0.0,
            reason_codes=[r.code for r in score.reasons] if score else [],
            rules_passed=["campaign_target"],
            decided_at=decided_at,
            status="sequence" if group == "test" else "holdout",
            campaign_id=campaign.campaign_id,
            group=group,
            segment=scores.profile.get("digital_archetype"),
        )
        timezone = scores.profile.get("timezone")
        if group == "control":
            state = machine.held_out(campaign.sequence, campaign.campaign_id, customer_key, offer_id, clock.now())
            actions: list[machine.Action] = []
        else:
            state, actions = machine.start(
                campaign.sequence, campaign.campaign_id, customer_key, offer_id, clock.now(), timezone
            )
        result = self._sequences.enrol(campaign, record, state, self._jobs(state, actions))
        if result != -1:  # also on a redelivery: the marker makes it count once, even after a crash
            counter = kpis.OFFERS if group == "test" else kpis.HOLDOUT
            self._store.count_once(
                f"{offer_id}.recorded",
                record.kpi_increments(counter) + experiment_increments(campaign.campaign_id, group, kpis.OFFERS),
            )
        if result == 1:
            log.info("customer enrolled", extra={"customer_key": customer_key, "campaign_id": campaign.campaign_id})
        return result

    def _jobs(self, state: machine.SequenceState, actions: list[machine.Action]) -> list[tuple[str, float]]:
        now, jobs = self._clock(), []
        for action in actions:
            if isinstance(action, machine.RunStep):
                job, due = (
                    Job(kind="step", customer_key=state.customer_key, offer_id=state.offer_id, step_no=action.step_no),
                    now,
                )
            else:
                job, due = (
                    Job(kind="timer", customer_key=state.customer_key, offer_id=state.offer_id, step_no=action.step_no),
                    now + action.after_days * self._day_s,
                )
            jobs.append((job.model_dump_json(), due))
        return jobs

    def _apply(self, state: machine.SequenceState, actions: list[machine.Action]) -> None:
        for member, due in self._jobs(state, actions):
            self._schedule.add(Job.model_validate_json(member), due)

    # -- events ------------------------------------------------------------------------------------
    def on_outcome(self, customer_key: str, offer_id: str, kind: OutcomeKind) -> None:
        self._advance(customer_key, offer_id, lambda seq, st: machine.on_outcome(seq, st, kind, clock.now()))

    def on_timer(self, job: Job) -> None:
        self._advance(
            job.customer_key, job.offer_id, lambda seq, st: machine.on_timer(seq, st, job.step_no, clock.now())
        )

    def _advance(self, customer_key: str, offer_id: str, transition: Transition) -> None:
        state = self._sequences.state(customer_key, offer_id)
        campaign = self._definition(state.campaign_id) if state else None
        if state is None or campaign is None:
            return  # not a sequence offer, or erased
        result = self._sequences.update(customer_key, offer_id, lambda st: transition(campaign.sequence, st))
        if result is not None:
            self._apply(*result)

    def _permitted(
        self,
        job: Job,
        state: machine.SequenceState,
        channel: Channel,
        campaign: CampaignDefinition,
        step_id: str,
        marker: str,
        now: datetime,
    ) -> bool:
        """May the step go out on `channel`? Asked when the step is due, days after the offer: the
        customer's marketing consent (purpose binding), objection to profiling, their country's
        do-not-contact registry and the channel's permission as they stand now. A refusal is final for
        this step: counted with its reason, then the sequence moves on. Permissions not known yet
        (consent events behind scores) wait a while first."""
        ck = job.customer_key
        refusal = self._permissions.refusal(ck, channel)
        if refusal is None:
            return True
        if not self._permissions.known(ck) and (now - state.entered_at).total_seconds() < self._permission_wait_s:
            raise Deferred(self._clock() + min(self._hold_s, self._permission_wait_s), "permissions not known yet")
        counters = self._sequences.step_counter(campaign.campaign_id)
        increments = [(counters, f"{step_id}|suppressed", 1), (counters, f"{step_id}|refused:{refusal.value}", 1)]
        if self._store.count_once(f"{marker}.suppressed", increments):
            log.info(
                "sequence step refused",
                extra={"offer_id": job.offer_id, "step": step_id, "channel": channel.value, "reason": refusal.value},
            )
        self._advance(ck, job.offer_id, lambda seq, st: machine.skip(seq, st, job.step_no, clock.now()))
        return False

    # -- steps (scheduler) -------------------------------------------------------------------------
    def run_step(self, job: Job) -> None:
        """Send the step through the deliverer (raises TransientDeliveryError to be retried later)."""
        state = self._sequences.state(job.customer_key, job.offer_id)
        campaign = self._definition(state.campaign_id) if state else None
        if state is None or campaign is None or state.status == "stopped" or job.step_no > len(state.path):
            return
        now = clock.now()
        if now >= campaign.ends_at:
            return  # the campaign is over: a step still pending is not sent
        if self._paused(campaign.campaign_id):
            raise Deferred(self._clock() + self._hold_s, "campaign paused")
        step = campaign.sequence.step(state.path[job.step_no - 1])
        marker = f"{job.offer_id}.{job.step_no}.{step.id}"
        if self._store.applied(f"{marker}.sent"):
            return
        record = self._store.get_offer(job.customer_key, job.offer_id)
        if record is None:
            return
        channel = step.channel if step.action == "send" and step.channel else Channel.ADVISOR
        if not self._permitted(job, state, channel, campaign, step.id, marker, now):
            return
        if self._quiet_hours is not None and self._quiet_hours.silences(channel, now, state.timezone):
            resume = self._quiet_hours.ends_after(now, state.timezone)
            raise Deferred(self._clock() + (resume - now).total_seconds(), f"quiet hours for {channel.value}")
        delivery = delivery_for(
            record,
            channel.value,
            metadata={
                "campaign_id": campaign.campaign_id,
                "step": step.id,
                "action": step.action,
                **({"task": step.task} if step.action == "crm_task" else {}),
            },
            idempotency_key=marker,
        )
        counters = self._sequences.step_counter(campaign.campaign_id)

        def refused(exc: PermanentDeliveryError) -> None:
            log.warning(
                "sequence step refused", extra={"offer_id": job.offer_id, "step": step.id, "error": str(exc)[:300]}
            )
            self._store.count_once(f"{marker}.failed", [(counters, f"{step.id}|failed", 1)])

        # A `send` step is a contact: published so KPIs count it and next-best-action's weekly cap sees it.
        # The step is done once its `.sent` marker is counted, so the offer is marked delivered before that
        # (and before the outcome is published: its consumer then reads the delivered record).
        self._deliverer.deliver(
            record,
            delivery,
            sent_marker=f"{marker}.sent",
            refused=refused,
            counters=[(counters, f"{step.id}|sent", 1)],
            contact=step.action == "send",
            mark_first=True,
        )
