"""The FastAPI application of the bundled Hospital Directory."""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from hospital_bulk.bundled_directory import control, hospitals
from hospital_bulk.bundled_directory.faults import FaultSettings, settings_for_profile
from hospital_bulk.bundled_directory.rate_limit import FixedWindowRateLimiter, RateLimitExceeded
from hospital_bulk.bundled_directory.schemas import HealthStatus
from hospital_bulk.bundled_directory.state import DirectoryState, StateDep, client_address
from hospital_bulk.bundled_directory.store import HospitalStore

logger = logging.getLogger(__name__)

_health_router = APIRouter(tags=["health"])


@_health_router.get("/", response_model=HealthStatus)
async def health_check(request: Request, state: StateDep) -> HealthStatus:
    """Return `{"status": "OK"}`."""
    state.rate_limiter.hit(
        endpoint="health_check",
        client=client_address(request),
        limit=state.faults.health_rate_per_minute,
        window_seconds=state.faults.rate_window_seconds,
    )
    return HealthStatus(status="OK")


async def _reject_over_limit(request: Request, exc: Exception) -> JSONResponse:
    # Upstream (slowapi) puts the text under "error", not "detail", and sends no
    # Retry-After header.
    logger.debug(
        "Rejected a request from %s to %s: %s", client_address(request), request.url.path, exc
    )
    return JSONResponse(status_code=429, content={"error": str(exc)})


def _build_lifespan(
    *, database_path: Path, profile: str, faults: FaultSettings, seed: int | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = HospitalStore.open(database_path)
        app.state.directory = DirectoryState(
            store=store,
            faults=faults,
            rate_limiter=FixedWindowRateLimiter(),
            random=random.Random(seed),
        )
        logger.info("Bundled Directory started: profile %r, database %s", profile, database_path)
        try:
            yield
        finally:
            store.close()
            logger.info("Bundled Directory stopped: database %s", database_path)

    return lifespan


def create_directory_app(
    *, database_path: Path, profile: str = "local", seed: int | None = None
) -> FastAPI:
    """Build a local copy of the Hospital Directory API.

    The store opens when the app's lifespan starts and closes when it ends, so
    hospitals and the id counter survive a restart on the same file. Fault settings
    return to the profile's values and rate-limit counters to zero on each start.

    Args:
        database_path: SQLite file of the hospitals, created when missing.
        profile: name of the starting fault settings, a key of PROFILES.
        seed: seed of the random draws behind ``error_rate`` and
            ``store_then_hang_rate``, or None for a random seed.

    Raises:
        ValueError: ``profile`` is unknown.

    Returns:
        The app, with the upstream routes plus ``/_control``.
    """
    faults = settings_for_profile(profile)
    lifespan = _build_lifespan(
        database_path=database_path, profile=profile, faults=faults, seed=seed
    )

    app = FastAPI(title="Hospital Directory API", version="1.0.0", lifespan=lifespan)
    app.add_exception_handler(RateLimitExceeded, _reject_over_limit)
    app.include_router(_health_router)
    app.include_router(hospitals.router)
    app.include_router(control.router)
    return app
