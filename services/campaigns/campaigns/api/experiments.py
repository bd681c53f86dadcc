"""Holdout experiments: conversion of test and control and the lift with its confidence interval."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from campaigns.deps import SequencesDep, SettingsDep, StoreDep
from campaigns.domain.experiment import two_proportion_ztest
from campaigns.domain.kpis import OFFERS, outcome_counter, rate
from prometeo import clock
from prometeo.contracts.events import OutcomeKind

router = APIRouter(prefix="/v1", tags=["experiments"])


class GroupPublic(BaseModel):
    offers: int
    conversions: int
    conversion_rate: float


class LiftPublic(BaseModel):
    absolute: float
    relative: float | None
    ci95_low: float
    ci95_high: float
    z: float
    p_value: float
    significant: bool


class ExperimentPublic(BaseModel):
    campaign_id: str
    active: bool
    control_share: float | None
    test: GroupPublic
    control: GroupPublic
    lift: LiftPublic | None  # None until both groups have offers


def _group(counters: dict[str, int]) -> GroupPublic:
    offers, conversions = counters.get(OFFERS, 0), counters.get(outcome_counter(OutcomeKind.ACCEPTED), 0)
    return GroupPublic(offers=offers, conversions=conversions, conversion_rate=rate(conversions, offers))


@router.get("/experiments/{campaign_id}")
def get_experiment(
    campaign_id: str, store: StoreDep, sequences: SequencesDep, settings: SettingsDep
) -> ExperimentPublic:
    """A defined campaign's holdout, or the always-on next-best-action stream's (`campaign_id` setting)."""
    counters = store.experiment_counters(campaign_id)
    test, control = _group(counters.get("test", {})), _group(counters.get("control", {}))
    lift = None
    if test.offers and control.offers:
        result = two_proportion_ztest(
            min(test.conversions, test.offers), test.offers, min(control.conversions, control.offers), control.offers
        )
        lift = LiftPublic(
            absolute=result.absolute,
            relative=result.relative,
            ci95_low=result.ci_low,
            ci95_high=result.ci_high,
            z=result.z,
            p_value=result.p_value,
            significant=result.p_value < 0.05,
        )
    definition = sequences.definition(campaign_id)
    if definition is not None:
        active = definition.is_active(clock.now()) and not sequences.paused([campaign_id])
        share: float | None = definition.control_share
    else:
        active = campaign_id == settings.campaign_id
        share = settings.control_share if active else None
    return ExperimentPublic(
        campaign_id=campaign_id, active=active, control_share=share, test=test, control=control, lift=lift
    )
