"""State of one running bundled Directory, and the FastAPI dependencies that read it."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from hospital_bulk.bundled_directory.faults import FaultSettings
from hospital_bulk.bundled_directory.rate_limit import FixedWindowRateLimiter
from hospital_bulk.bundled_directory.store import HospitalStore


@dataclass(slots=True)
class DirectoryState:
    """The store, current fault settings, rate-limit counters and random source.

    The app's lifespan builds one at startup. ``faults`` is replaced whole on each
    ``PUT /_control/faults``, so a request reads a consistent set of settings.
    """

    store: HospitalStore
    faults: FaultSettings
    rate_limiter: FixedWindowRateLimiter
    random: random.Random


async def get_state(request: Request) -> DirectoryState:
    """Return the state that the app's lifespan stored on ``app.state``.

    It is a coroutine because FastAPI runs a plain function dependency in a worker thread,
    and that hop added about 25 ms to every create at 50 concurrent requests.
    """
    state: DirectoryState = request.app.state.directory
    return state


def client_address(request: Request) -> str:
    """Return the client's IP address, the key of the rate limits."""
    return request.client.host if request.client is not None else "unknown"


StateDep = Annotated[DirectoryState, Depends(get_state)]
