from typing import Annotated

import redis.asyncio as aioredis
from fastapi import Depends, Request

from next_best_action.policy_source import PolicySource
from next_best_action.presented import AckedPresentations
from next_best_action.response_store import LeverStore
from next_best_action.settings import Settings, get_settings
from next_best_action.store import NbaStore
from prometeo.bus import EventProducer


# async: FastAPI runs a plain `def` dependency through the threadpool, one hop each per request.
async def _store(request: Request) -> NbaStore:
    return request.app.state.store


async def _policies(request: Request) -> PolicySource:
    return request.app.state.policies


async def _levers(request: Request) -> LeverStore:
    return request.app.state.levers


async def _aio_redis(request: Request) -> aioredis.Redis:
    return request.app.state.aio_redis


async def _producer(request: Request) -> EventProducer:
    return request.app.state.runtime.producer


async def _acked_presentations(request: Request) -> AckedPresentations:
    return request.app.state.acked_presentations


ProducerDep = Annotated[EventProducer, Depends(_producer)]
AckedPresentationsDep = Annotated[AckedPresentations, Depends(_acked_presentations)]
# The request path's Redis: awaited on the event loop (the consumers keep the sync client in their threads).
AsyncRedis = aioredis.Redis
AsyncRedisDep = Annotated[aioredis.Redis, Depends(_aio_redis)]
StoreDep = Annotated[NbaStore, Depends(_store)]
PolicySourceDep = Annotated[PolicySource, Depends(_policies)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
LeverStoreDep = Annotated[LeverStore, Depends(_levers)]
