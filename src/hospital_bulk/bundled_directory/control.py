"""Routes under ``/_control``, which only the bundled Directory has.

They let tests and benchmarks change fault settings while the server runs and wipe
the store as an upstream restart does.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter

from hospital_bulk.bundled_directory.faults import FaultSettings, FaultSettingsUpdate
from hospital_bulk.bundled_directory.schemas import WipeResult
from hospital_bulk.bundled_directory.state import StateDep

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/_control", tags=["control"])


@router.get("/faults", response_model=FaultSettings)
async def read_faults(state: StateDep) -> FaultSettings:
    """Return the current fault settings."""
    return state.faults


@router.put("/faults", response_model=FaultSettings)
async def update_faults(update: FaultSettingsUpdate, state: StateDep) -> FaultSettings:
    """Merge the given fields into the fault settings and return all of them.

    Fields left out keep their value. An invalid value rejects the whole request
    with 422 and changes nothing. Creates already waiting out their delay or hang
    keep the value they read when they started waiting.
    """
    state.faults = state.faults.merged(update)
    logger.info("Fault settings changed: %s", update.model_dump(exclude_unset=True))
    return state.faults


@router.post("/wipe", response_model=WipeResult)
async def wipe_store(state: StateDep) -> WipeResult:
    """Delete every hospital, restart ids at 1 and reset the rate-limit counters.

    Fault settings are kept.
    """
    # NOTE: a create that is waiting out its delay during the wipe still stores its
    # hospital afterwards, whereas an upstream restart would drop it.
    deleted = state.store.wipe()
    state.rate_limiter.reset()
    logger.info("Wiped the store: %d hospitals deleted", deleted)
    return WipeResult(deleted_count=deleted)
