"""Campaign definitions (target, product, channels, dates, budget, holdout share, sequence), their
progress, and pause/resume. A definition is immutable once created (a change is a new campaign, so its
KPIs and experiment stay comparable); pausing holds enrolment and every due step until resumed."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from campaigns.deps import PermissionsDep, SequencesDep, StoreDep
from campaigns.domain.campaign import CampaignDefinition
from campaigns.domain.preview import preview
from campaigns.domain.sequence import SequenceState
from campaigns.sequence_store import SequenceStore
from campaigns.sequences import campaign_offer_id
from prometeo import clock
from prometeo.web import Problem

router = APIRouter(prefix="/v1", tags=["campaigns"])


class CampaignCreate(CampaignDefinition):
    pass


class CampaignPublic(CampaignDefinition):
    active: bool  # within its dates and not paused
    paused: bool
    enrolled: int
    budget_left: int
    steps: dict[str, dict[str, int]]  # step → {sent, failed}


class CampaignsPublic(BaseModel):
    campaigns: list[CampaignPublic]


class SequenceStatePublic(SequenceState):
    pass


def _public(store: SequenceStore, campaign: CampaignDefinition) -> CampaignPublic:
    enrolled = store.enrolled(campaign.campaign_id)
    paused = bool(store.paused([campaign.campaign_id]))
    return CampaignPublic(
        **campaign.model_dump(),
        active=campaign.is_active(clock.now()) and not paused,
        paused=paused,
        enrolled=enrolled,
        budget_left=max(0, campaign.budget - enrolled),
        steps=store.step_counts(campaign.campaign_id),
    )


def _existing(store: SequenceStore, campaign_id: str) -> CampaignDefinition:
    campaign = store.definition(campaign_id)
    if campaign is None:
        raise Problem(404, "Campaign not found", f"no campaign {campaign_id}")
    return campaign


@router.post("/campaigns", status_code=201)
def create_campaign(body: CampaignCreate, store: SequencesDep) -> CampaignPublic:
    campaign = CampaignDefinition.model_validate(body.model_dump())
    if not store.create(campaign):
        raise Problem(
            409,
            "Campaign exists",
            f"campaign {campaign.campaign_id} already exists; definitions are immutable, create a new one",
        )
    return _public(store, campaign)


class CampaignPreviewPublic(BaseModel):
    scanned: int
    matching: int
    contactable: int
    entering: int
    expected_conversions: float


PREVIEW_LIMIT = 50_000  # customers scanned at most (the preview says how many it saw)


@router.post("/campaigns:preview")
def preview_campaign(body: CampaignCreate, store: StoreDep, permissions: PermissionsDep) -> CampaignPreviewPublic:
    """Before launch: audience size (in the target, not holding the product), how many are consented and reachable
    on the campaign's channels, and the conversions the models expect — counts only, nothing is stored."""
    campaign = CampaignDefinition.model_validate(body.model_dump())

    def contactable(customer_key: str) -> bool:  # the channels a contact may go out on now (consents, registries)
        return bool(permissions.channels(customer_key) & set(campaign.channels))

    result = preview(campaign, store.audience(PREVIEW_LIMIT), contactable)
    return CampaignPreviewPublic(**result.__dict__)


@router.get("/campaigns")
def list_campaigns(store: SequencesDep) -> CampaignsPublic:
    return CampaignsPublic(campaigns=[_public(store, c) for c in store.definitions()])


@router.get("/campaigns/{campaign_id}")
def get_campaign(campaign_id: str, store: SequencesDep) -> CampaignPublic:
    return _public(store, _existing(store, campaign_id))


@router.post("/campaigns/{campaign_id}/pause")
def pause_campaign(campaign_id: str, store: SequencesDep) -> CampaignPublic:
    """Nobody new enters; due steps wait (timers keep running). Idempotent."""
    campaign = _existing(store, campaign_id)
    store.set_paused(campaign_id, True)
    return _public(store, campaign)


@router.post("/campaigns/{campaign_id}/resume")
def resume_campaign(campaign_id: str, store: SequencesDep) -> CampaignPublic:
    """Enrolment resumes and held steps go out at their next look (`paused_recheck_s`). Idempotent."""
    campaign = _existing(store, campaign_id)
    store.set_paused(campaign_id, False)
    return _public(store, campaign)


@router.get("/campaigns/{campaign_id}/customers/{customer_key}")
def customer_sequence(campaign_id: str, customer_key: str, store: SequencesDep) -> SequenceStatePublic:
    state = store.state(customer_key, campaign_offer_id(campaign_id, customer_key))
    if state is None:
        raise Problem(404, "Not enrolled", "this customer is not in this campaign")
    return SequenceStatePublic.model_validate(state.model_dump())
