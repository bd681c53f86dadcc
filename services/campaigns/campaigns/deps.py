from typing import Annotated

from fastapi import Depends, Request

from campaigns.sequence_store import SequenceStore
from campaigns.settings import Settings, get_settings
from campaigns.store import CampaignStore
from prometeo.bus import EventProducer
from prometeo.permissions import MarketingPermissions


def _store(request: Request) -> CampaignStore:
    return request.app.state.store


def _sequences(request: Request) -> SequenceStore:
    return request.app.state.sequences


def _producer(request: Request) -> EventProducer:
    return request.app.state.runtime.producer


def _permissions(request: Request) -> MarketingPermissions:
    return request.app.state.permissions


StoreDep = Annotated[CampaignStore, Depends(_store)]
ProducerDep = Annotated[EventProducer, Depends(_producer)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SequencesDep = Annotated[SequenceStore, Depends(_sequences)]
PermissionsDep = Annotated[MarketingPermissions, Depends(_permissions)]
