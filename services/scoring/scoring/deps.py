from typing import Annotated

from fastapi import Depends, Query, Request

from prometeo.web import Problem
from scoring.models import LoadedModel, ModelHolder
from scoring.settings import Settings, get_settings


def _holder(request: Request) -> ModelHolder:
    return request.app.state.models


def _model(
    request: Request,
    model: Annotated[str, Query(pattern="^(champion|challenger)$", description="Which alias scores")] = "champion",
) -> LoadedModel:
    """One model reference for the whole request: a hot swap cannot change it half-way."""
    settings = get_settings()
    alias = settings.model_alias if model == "champion" else settings.challenger_alias
    loaded = _holder(request).get(alias)
    if loaded is None:
        raise Problem(503, "Model not loaded", f"no '{alias}' version of {settings.model_name} is loaded yet")
    return loaded


ModelDep = Annotated[LoadedModel, Depends(_model)]
ModelsDep = Annotated[ModelHolder, Depends(_holder)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
