"""Campaign definitions over REST and a multi-step sequence on real servers (SMTP, messaging API, CRM
webhook, broker, Redis): email → not opened in 3 "days" → SMS; clicked → advisor task in the CRM;
accepted stops. The service is stopped while a wait is pending and the due step still fires after
it starts again (timers live in Redis). One sequence day = 1 s here."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import cast

import pytest
import redis as redis_lib
from fastapi import FastAPI
from fastapi.testclient import TestClient

from campaigns.domain.experiment import assign
from campaigns.sequences import campaign_offer_id
from campaigns.settings import get_settings
from prometeo import clock, keys
from prometeo.contracts import Channel, ProductCode, new_event, topics, utcnow
from prometeo.contracts.events import (
    ConsentGrantedV1,
    CustomerErasureRequestedV1,
    DataScope,
    MarketingPermission,
    MarketingPermissionChangedV1,
    OutcomeRecordedV1,
    ProductScore,
    ScoresComputedV1,
)
from tests.app_helpers import app_state, handled, running_app
from tests.bus_helpers import payload_as, publish, read_topic, wait_until
from tests.instants import SAO_PAULO, SAO_PAULO_HOURS, local_hour
from tests.integration.campaigns.providers import HttpProvider, SmtpSink

pytestmark = pytest.mark.integration
DAY_S = 1.0


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[SmtpSink, HttpProvider, HttpProvider]]:
    smtp, sms, crm = SmtpSink(), HttpProvider(), HttpProvider()
    smtp.start()
    yield smtp, sms, crm
    smtp.stop()
    sms.close()
    crm.close()


@contextlib.contextmanager
def campaigns_app(env: dict[str, str]) -> Iterator[TestClient]:
    from campaigns.main import app

    with running_app(app, get_settings, env) as client:
        yield client


def grant(broker: str, customers: list[str], channels: list[Channel]) -> None:
    payload = ConsentGrantedV1(
        consent_id="c-1", institution="bank-x", scopes=[DataScope.ACCOUNTS], marketing_channels=channels
    )
    publish(broker, topics.CONSENT_EVENTS, [new_event(payload, customer_key=ck, source="tests") for ck in customers])


def base_env(broker: str, redis_url: str, run: str) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "REDIS_URL": redis_url,
        "PROMETEO_CONSUMER_SESSION_TIMEOUT_MS": "1500",
        "PROMETEO_CAMPAIGNS_GROUP_ID": f"campaigns-seq-{run}",
        "PROMETEO_CAMPAIGNS_SEQUENCE_DAY_S": str(DAY_S),
        "PROMETEO_CAMPAIGNS_SCHEDULER_INTERVAL_S": "0.1",
        "PROMETEO_CAMPAIGNS_DEFINITIONS_REFRESH_S": "0",
        "PROMETEO_CAMPAIGNS_PAUSED_RECHECK_S": "0.3",
        # Steps must not depend on the hour the suite runs at; quiet hours have their own test.
        "PROMETEO_CAMPAIGNS_QUIET_HOURS": "null",
    }


def scores(run: str, *, held: list[ProductCode] | None = None) -> ScoresComputedV1:
    return ScoresComputedV1(
        model_name="prometeo-propensity",
        model_version="3",
        feature_set_version="fs1",
        scores=[ProductScore(product=ProductCode.CREDIT_CARD, propensity=0.6)],
        held_products=held or [],
        profile={"test_run": run, "digital_archetype": "activated"},
        features={"spend_travel_90d": 2400.0},
    )


@SAO_PAULO_HOURS
def test_sequence_branches_and_survives_a_restart(
    broker: str,
    redis_url: str,
    redis: redis_lib.Redis,
    servers: tuple[SmtpSink, HttpProvider, HttpProvider],
    at: datetime,
) -> None:
    smtp, sms, crm = servers
    # Pinned at 03:00 or 15:00 in São Paulo: with quiet hours off the hour must not matter.
    with clock.pinned(at):
        run = uuid.uuid4().hex[:10]
        env = {
            **base_env(broker, redis_url, run),
            "PROMETEO_CAMPAIGNS_ADAPTER": "webhook",
            "PROMETEO_CAMPAIGNS_WEBHOOK_URL": f"{crm.url}/tasks",
            "PROMETEO_CAMPAIGNS_SMTP_HOST": "127.0.0.1",
            "PROMETEO_CAMPAIGNS_SMTP_PORT": str(smtp.port),
            "PROMETEO_CAMPAIGNS_MESSAGING_URL": f"{sms.url}/v1/messages",
        }
        campaign_id = f"seq-{run}"
        clicker, waiter, late, holder = (f"ck_seq-{run}-{n}" for n in ("clicker", "waiter", "late", "holder"))
        offer = {ck: campaign_offer_id(campaign_id, ck) for ck in (clicker, waiter, late, holder)}
        definition = {
            "campaign_id": campaign_id,
            "name": "Cartão viagem / Travel card",
            "product": "credit_card",
            "target": {
                "all": [
                    {"field": "segment.test_run", "op": "eq", "value": run},
                    {"field": "scores.credit_card", "op": "gte", "value": 0.5},
                    {"field": "features.spend_travel_90d", "op": "gt", "value": 1000},
                ]
            },
            "channels": ["email", "sms"],
            "budget": 2,
            "starts_at": (utcnow() - timedelta(hours=1)).isoformat(),
            "ends_at": (utcnow() + timedelta(days=1)).isoformat(),
        }

        def outcome(client: TestClient, ck: str, kind: str) -> None:
            body = {"customer_key": ck, "offer_id": offer[ck], "product": "credit_card", "outcome": kind}
            assert client.post("/v1/outcomes", json=body).status_code == 202

        def state(client: TestClient, ck: str) -> dict:
            return client.get(f"/v1/campaigns/{campaign_id}/customers/{ck}").json()

        with campaigns_app(env) as client:
            created = client.post("/v1/campaigns", json=definition)
            assert created.status_code == 201, created.text
            assert created.json()["sequence"]["steps"][0]["id"] == "email"  # the default sequence
            assert client.post("/v1/campaigns", json=definition).status_code == 409
            bad = client.post("/v1/campaigns", json={**definition, "campaign_id": f"bad-{run}", "budget": 0})
            assert bad.status_code == 422

            grant(broker, [clicker, waiter, late, holder], [Channel.EMAIL, Channel.SMS, Channel.ADVISOR])
            publish(
                broker,
                topics.SCORES,
                [new_event(scores(run), customer_key=ck, source="scoring") for ck in (clicker, waiter)]
                + [new_event(scores(run, held=[ProductCode.CREDIT_CARD]), customer_key=holder, source="scoring")],
            )
            wait_until(lambda: all(smtp.with_header("X-Prometeo-Offer-Id", offer[ck]) for ck in (clicker, waiter)))
            publish(broker, topics.SCORES, [new_event(scores(run), customer_key=late, source="scoring")])
            listed = wait_until(
                lambda: (
                    (c := client.get(f"/v1/campaigns/{campaign_id}").json())["steps"].get("email", {}).get("sent") == 2
                    and c
                )
            )
            assert (listed["enrolled"], listed["budget_left"]) == (2, 0)
            assert client.get(f"/v1/campaigns/{campaign_id}/customers/{holder}").status_code == 404
            outcome(client, clicker, "clicked")  # → advisor task in the CRM
            task_key = f"{offer[clicker]}.2.advisor"
            wait_until(lambda: task_key in crm.idempotency_keys())
            body = next(b for k, b in crm.accepted if k == task_key)
            assert body["channel"] == "advisor" and body["metadata"]["task"] == "advisor_follow_up"
            assert state(client, clicker)["path"] == ["email", "advisor"]
            assert client.get(f"/v1/campaigns/{campaign_id}/customers/{late}").status_code == 404  # over budget
            # Stopped in the middle of the waiter's 3-day wait: its timer is still pending.
            [due] = [at for j, at in app_state(client).schedule.pending(waiter) if j.kind == "timer"]
            assert due > clock.timestamp()

        # The service is down when the 3 days end (the pinned clock jumps there); the timer waits in Redis.
        clock.advance(max(0.0, due - clock.timestamp()) + 0.2)
        assert not [k for k in sms.idempotency_keys() if k.startswith(offer[waiter])]

        with campaigns_app(env) as client:
            wait_until(lambda: f"{offer[waiter]}.2.sms" in sms.idempotency_keys(), timeout=15)
            assert state(client, waiter)["path"] == ["email", "sms"]
            outcome(client, waiter, "accepted")
            wait_until(lambda: state(client, waiter)["status"] == "stopped")
            assert state(client, waiter)["stopped_by"] == "accepted"
            assert sms.idempotency_keys().count(f"{offer[waiter]}.2.sms") == 1
            assert not [
                k for k in sms.idempotency_keys() if k.startswith(offer[clicker])
            ]  # the click cancelled its SMS
            assert len(smtp.with_header("X-Prometeo-Offer-Id", offer[waiter])) == 1
            steps = client.get(f"/v1/campaigns/{campaign_id}").json()["steps"]
            assert steps == {"email": {"sent": 2}, "advisor": {"sent": 1}, "sms": {"sent": 1}}
            assert client.get(f"/v1/campaigns/{campaign_id}/customers/{late}").status_code == 404  # over budget
            # Each e-mail and SMS was published as a `delivered` outcome (KPIs, the weekly cap in nba).
            records = read_topic(
                broker,
                topics.OUTCOMES,
                min_count=3,
                match=lambda r: (
                    r.key in {clicker.encode(), waiter.encode()}
                    and payload_as(r, OutcomeRecordedV1).outcome == "delivered"
                ),
            )
            channels = [payload_as(r, OutcomeRecordedV1).channel for r in records]
            assert sorted(c.value for c in channels if c is not None) == ["email", "email", "sms"]
            assert [o["status"] for o in client.get(f"/v1/offers/{waiter}").json()["offers"]] == ["delivered"]

            # Erasure removes the customer's enrolment and sequence state with the rest of their keys.
            erasure = CustomerErasureRequestedV1(reason="consent_revoked")
            publish(broker, topics.CUSTOMER_ERASURE, [new_event(erasure, customer_key=clicker, source="tests")])
            wait_until(lambda: client.get(f"/v1/campaigns/{campaign_id}/customers/{clicker}").status_code == 404)
            assert not list(redis.scan_iter(match=keys.customer_pattern(keys.CAMPAIGNS, clicker)))


@SAO_PAULO_HOURS
def test_default_quiet_hours_hold_an_sms_step_until_eight_in_sao_paulo(
    broker: str, redis_url: str, redis: redis_lib.Redis, at: datetime
) -> None:
    """Quiet hours on (the 21:00–08:00 default): at 03:00 the SMS step is deferred to 08:00 and goes
    out when the clock gets there; at 15:00 it goes out at once."""
    run = uuid.uuid4().hex[:10]
    env = base_env(broker, redis_url, run)
    del env["PROMETEO_CAMPAIGNS_QUIET_HOURS"]
    campaign_id, ck = f"quiet-{run}", f"ck_quiet-{run}"
    outbox = keys.customer(keys.CAMPAIGNS, ck, "outbox")
    with clock.pinned(at), campaigns_app(env) as client:
        state = cast(FastAPI, client.app).state
        assert state.runner._quiet_hours is not None  # the default window is on
        definition = {
            "campaign_id": campaign_id,
            "name": "SMS only",
            "product": "credit_card",
            "target": {"all": [{"field": "segment.test_run", "op": "eq", "value": run}]},
            "channels": ["sms"],
            "budget": 1,
            "starts_at": (clock.now() - timedelta(hours=1)).isoformat(),
            "ends_at": (clock.now() + timedelta(days=2)).isoformat(),
            "sequence": {"steps": [{"id": "sms", "channel": "sms"}]},
        }
        assert client.post("/v1/campaigns", json=definition).status_code == 201, definition
        grant(broker, [ck], [Channel.SMS])
        wait_until(lambda: redis.hlen(keys.customer(keys.CAMPAIGNS, ck, "permissions")) >= 1)
        publish(broker, topics.SCORES, [new_event(scores(run), customer_key=ck, source="scoring")])
        if local_hour(at) == 15:
            wait_until(lambda: redis.llen(outbox) == 1)
        else:
            eight = at.astimezone(SAO_PAULO).replace(hour=8).timestamp()
            schedule = app_state(client).schedule
            wait_until(
                lambda: [due for job, due in schedule.pending(ck) if job.kind == "step" and abs(due - eight) < 5]
            )
            assert redis.llen(outbox) == 0
            clock.advance(eight - clock.timestamp() + 1)  # 08:00 in São Paulo
            wait_until(lambda: redis.llen(outbox) == 1)
        [sent] = [json.loads(raw) for raw in redis.lrange(outbox, 0, -1)]
        assert sent["channel"] == "sms"
        # The send is counted after the outbox push (its marker comes last): poll, do not race it.
        wait_until(lambda: client.get(f"/v1/campaigns/{campaign_id}").json()["steps"] == {"sms": {"sent": 1}})


def test_contact_policy_at_send_time_holdout_and_pause(broker: str, redis_url: str) -> None:
    """Outbox adapter (every send lands in Redis). Quiet hours cover now, for SMS only. Customers:
    `quiet` (e-mail + SMS: the SMS step waits for the end of quiet hours), `mail_only` (the SMS step
    is suppressed and the sequence ends), `opted_out` (granted e-mail, then opted out of it: nothing
    is sent), `control` (drawn into the holdout: enrolled, never contacted), `late` (arrives while the
    campaign is paused: enrolled only after it resumes)."""
    run = uuid.uuid4().hex[:10]
    now = utcnow()
    window = {
        "start": (now - timedelta(hours=1)).strftime("%H:%M"),
        "end": (now + timedelta(hours=1)).strftime("%H:%M"),
        "channels": ["sms"],
        "default_timezone": "UTC",
    }
    env = {**base_env(broker, redis_url, run), "PROMETEO_CAMPAIGNS_QUIET_HOURS": json.dumps(window)}
    campaign_id = f"policy-{run}"
    names = ("quiet", "mail_only", "opted_out", "late")
    ck = {n: f"ck_pol-{run}-{n}" for n in names}
    # Deterministic holdout: pick keys that hash into each group for a 50 % control share.
    candidates = (f"ck_pol-{run}-c{i}" for i in range(100))
    ck["control"] = next(c for c in candidates if assign(c, campaign_id, 0.5) == "control")
    for name in names:
        while assign(ck[name], campaign_id, 0.5) != "test":
            ck[name] += "x"
    definition = {
        "campaign_id": campaign_id,
        "name": "Seguro de vida",
        "product": "life_insurance",
        "target": {"all": [{"field": "segment.test_run", "op": "eq", "value": run}]},
        "channels": ["email", "sms"],
        "budget": 10,
        "control_share": 0.5,
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=1)).isoformat(),
        "sequence": {
            "steps": [
                {"id": "email", "channel": "email", "timeout": {"after_days": 1, "unless": ["opened"], "goto": "sms"}},
                {"id": "sms", "channel": "sms"},
            ]
        },
    }

    def outbox(name: str) -> list[dict]:
        return [
            json.loads(raw)
            for raw in redis_lib.Redis.from_url(redis_url).lrange(
                keys.customer(keys.CAMPAIGNS, ck[name], "outbox"), 0, -1
            )
        ]

    def state(client: TestClient, name: str) -> dict:
        return client.get(f"/v1/campaigns/{campaign_id}/customers/{ck[name]}").json()

    def life_scores() -> ScoresComputedV1:
        return ScoresComputedV1(
            model_name="m",
            model_version="1",
            feature_set_version="fs1",
            scores=[ProductScore(product=ProductCode.LIFE_INSURANCE, propensity=0.4)],
            profile={"test_run": run},
        )

    with campaigns_app(env) as client:
        assert client.post("/v1/campaigns", json=definition).status_code == 201
        grant(broker, [ck["quiet"], ck["control"], ck["late"]], [Channel.EMAIL, Channel.SMS])
        grant(broker, [ck["mail_only"], ck["opted_out"]], [Channel.EMAIL])
        opt_out = MarketingPermissionChangedV1(channel=Channel.EMAIL, permission=MarketingPermission.OPTED_OUT)
        publish(broker, topics.CONSENT_EVENTS, [new_event(opt_out, customer_key=ck["opted_out"], source="tests")])
        marketing = keys.customer(keys.CAMPAIGNS, ck["opted_out"], "marketing")
        wait_until(lambda: redis_lib.Redis.from_url(redis_url).hlen(marketing) == 1)  # else the e-mail may beat it
        publish(
            broker,
            topics.SCORES,
            [
                new_event(life_scores(), customer_key=ck[n], source="scoring")
                for n in ("quiet", "mail_only", "opted_out", "control")
            ],
        )

        # mail_only: e-mail sent; a "day" later the SMS step is suppressed and the sequence ends.
        wait_until(lambda: state(client, "mail_only").get("status") == "completed", timeout=30)
        assert [d["channel"] for d in outbox("mail_only")] == ["email"]
        assert state(client, "mail_only")["skipped"] == ["sms"]
        # opted_out: the e-mail is suppressed too, and with it the whole sequence.
        wait_until(lambda: state(client, "opted_out").get("skipped") == ["email", "sms"], timeout=30)
        assert outbox("opted_out") == []
        # quiet: e-mail sent, the SMS waits for the end of the window.
        wait_until(lambda: state(client, "quiet").get("path") == ["email", "sms"], timeout=30)
        # Deferred past the scheduler's lease (a claimed job is briefly due `lease_s` ahead).
        [due] = wait_until(
            lambda: (
                [
                    at
                    for j, at in app_state(client).schedule.pending(ck["quiet"])
                    if j.kind == "step" and j.step_no == 2 and at > clock.timestamp() + 300
                ]
                or None
            ),
            timeout=30,
        )
        window_end = now.replace(second=0, microsecond=0) + timedelta(hours=1)
        assert abs(due - window_end.timestamp()) < 120
        assert [d["channel"] for d in outbox("quiet")] == ["email"]
        # control: enrolled and counted, never contacted.
        assert state(client, "control")["status"] == "held_out" and outbox("control") == []
        experiment = client.get(f"/v1/experiments/{campaign_id}").json()
        assert experiment["control_share"] == 0.5 and experiment["active"] is True
        assert (experiment["test"]["offers"], experiment["control"]["offers"]) == (3, 1)
        steps = client.get(f"/v1/campaigns/{campaign_id}").json()["steps"]
        # Each refusal is counted with its reason (here: the channel is not permitted).
        refused = "refused:channel_not_permitted"
        assert steps == {"email": {"sent": 2, "suppressed": 1, refused: 1}, "sms": {"suppressed": 2, refused: 2}}

        # Paused: nobody enters; resumed: the next scores event enrols.
        paused = client.post(f"/v1/campaigns/{campaign_id}/pause").json()
        assert paused["paused"] is True and paused["active"] is False
        group, seen = get_settings().group_id, handled(get_settings().group_id, topics.SCORES)
        publish(broker, topics.SCORES, [new_event(life_scores(), customer_key=ck["late"], source="scoring")])
        # The paused campaign has seen `late`'s scores (its consumer finished the record), enrolling nobody.
        wait_until(lambda: handled(group, topics.SCORES) > seen)
        assert client.get(f"/v1/campaigns/{campaign_id}/customers/{ck['late']}").status_code == 404
        assert client.post(f"/v1/campaigns/{campaign_id}/resume").json()["paused"] is False
        publish(broker, topics.SCORES, [new_event(life_scores(), customer_key=ck["late"], source="scoring")])
        wait_until(lambda: [d["channel"] for d in outbox("late")] == ["email"], timeout=30)
        assert client.post("/v1/campaigns/no-such-campaign/pause").status_code == 404
        # Leave no due job behind for the next module's campaigns app (the schedule is shared in Redis).
        schedule = app_state(client).schedule
        for customer in ck.values():
            for job, _ in schedule.pending(customer):
                schedule.done(job.model_dump_json())
