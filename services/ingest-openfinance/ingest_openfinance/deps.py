from typing import Annotated

from fastapi import Depends, Request

from ingest_openfinance.settings import Settings, get_settings
from ingest_openfinance.usecases.consents import ConsentRegistration
from ingest_openfinance.usecases.data_subject import DataSubjectRequests
from ingest_openfinance.usecases.events import EventIngestion
from ingest_openfinance.usecases.marketing import MarketingRegistry


def _events(request: Request) -> EventIngestion:
    return request.app.state.events


def _consents(request: Request) -> ConsentRegistration:
    return request.app.state.consents


def _marketing(request: Request) -> MarketingRegistry:
    return request.app.state.marketing


def _data_subject(request: Request) -> DataSubjectRequests:
    return request.app.state.data_subject


EventsDep = Annotated[EventIngestion, Depends(_events)]
ConsentsDep = Annotated[ConsentRegistration, Depends(_consents)]
MarketingDep = Annotated[MarketingRegistry, Depends(_marketing)]
DataSubjectDep = Annotated[DataSubjectRequests, Depends(_data_subject)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
