from typing import Annotated

from fastapi import Depends, Request

from ingest_openfinance.ingestion import Ingestor
from ingest_openfinance.marketing import MarketingRegistry
from ingest_openfinance.settings import Settings, get_settings


def _ingestor(request: Request) -> Ingestor:
    return request.app.state.ingestor


def _marketing(request: Request) -> MarketingRegistry:
    return request.app.state.marketing


IngestorDep = Annotated[Ingestor, Depends(_ingestor)]
MarketingDep = Annotated[MarketingRegistry, Depends(_marketing)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
