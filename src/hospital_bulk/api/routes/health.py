"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from hospital_bulk.api.deps import ServicesDep
from hospital_bulk.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def read_health() -> Health:
    """Report that the process is up and serving requests."""
    return Health(status="ok")


@router.get("/ready")
async def read_readiness(services: ServicesDep) -> JSONResponse:
    """Check that the job store, the broker (when used) and the Directory are reachable."""
    checks = {
        "job_store": _check_store(services),
        "directory": await _check_directory(services),
    }
    if services.settings.broker_url:
        checks["broker"] = _check_broker(services.settings.broker_url)
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


def _check_store(services: ServicesDep) -> str:
    try:
        with services.repository.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready", with the reason shown
        return f"error: {exc.__class__.__name__}: {exc}"[:300]
    return "ok"


async def _check_directory(services: ServicesDep) -> str:
    try:
        status_code = await services.context.client.ping()
    except Exception as exc:
        return f"error: {exc.__class__.__name__}: {exc}"[:300]
    return "ok" if status_code < 500 else f"error: HTTP {status_code}"


def _check_broker(url: str) -> str:
    import kombu

    try:
        with kombu.Connection(url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:
        return f"error: {exc.__class__.__name__}: {exc}"[:300]
    return "ok"
