from typing import Annotated

from fastapi import Depends, Request

from feature_store.settings import Settings, get_settings
from feature_store.store import FeatureRepository


def _repository(request: Request) -> FeatureRepository:
    return request.app.state.repository


RepositoryDep = Annotated[FeatureRepository, Depends(_repository)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
