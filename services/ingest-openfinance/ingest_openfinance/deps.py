from typing import Annotated

from fastapi import Depends, Request

from ingest_openfinance.ingestion import Ingestor
from ingest_openfinance.settings import Settings, get_settings


def _ingestor(request: Request) -> Ingestor:
    return request.app.state.ingestor


IngestorDep = Annotated[Ingestor, Depends(_ingestor)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
