"""Dependencies of the routes: the service's resources from app state, and the caller's scope."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from hospital_bulk.config import Settings
from hospital_bulk.jobs.backend import JobBackend
from hospital_bulk.jobs.context import PipelineContext
from hospital_bulk.store.repository import JobRepository


@dataclass
class Services:
    """Resources built once in the app's lifespan and shared by every request."""

    settings: Settings
    repository: JobRepository
    context: PipelineContext
    backend: JobBackend


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_owner(request: Request, services: Annotated[Services, Depends(get_services)]) -> str:
    """Return the caller's scope: a digest of its API key, or "" when keys are off."""
    keys = services.settings.api_keys
    if not keys:
        return ""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not any(hmac.compare_digest(token, key) for key in keys):
        raise HTTPException(
            status_code=401,
            detail="A valid API key is required: send it as 'Authorization: Bearer <key>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return hashlib.sha256(token.encode()).hexdigest()[:32]


ServicesDep = Annotated[Services, Depends(get_services)]
OwnerDep = Annotated[str, Depends(get_owner)]
