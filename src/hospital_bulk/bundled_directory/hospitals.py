"""Routes under ``/hospitals``: the hospital and batch endpoints of the Directory."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request, Response

from hospital_bulk.bundled_directory.schemas import (
    BatchActivation,
    BatchDeletion,
    Hospital,
    HospitalCreate,
    HospitalUpdate,
)
from hospital_bulk.bundled_directory.state import DirectoryState, StateDep, client_address
from hospital_bulk.bundled_directory.store import HospitalRecord

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/hospitals", tags=["hospitals"])

HOSPITAL_NOT_FOUND = "Hospital not found"
BATCH_NOT_FOUND = "No hospitals found with the specified batch ID"
BATCH_ALREADY_ACTIVE = (
    "Cannot activate batch: one or more hospitals in the batch are already active"
)
SERVICE_UNAVAILABLE = "Service temporarily unavailable"


def _count_request(state: DirectoryState, request: Request, *, endpoint: str, limit: int) -> None:
    # Called at the top of each handler, after FastAPI has validated the request, so
    # a 422 does not use up the limit. Upstream's slowapi decorators count the same way.
    state.rate_limiter.hit(
        endpoint=endpoint, client=client_address(request), limit=limit,
        window_seconds=state.faults.rate_window_seconds,
    )


def _chance(state: DirectoryState, rate: float) -> bool:
    # A rate of 0 draws no number, so a seeded run keeps its sequence when a fault is off.
    return rate > 0 and state.random.random() < rate


def _check_batch_cap(state: DirectoryState, batch_id: uuid.UUID | None) -> None:
    cap = state.faults.batch_cap
    if batch_id is None or cap == 0:
        return
    if state.store.count_batch(batch_id) >= cap:
        raise HTTPException(status_code=400, detail=f"Batch cannot exceed {cap} hospitals")


def _require_batch(state: DirectoryState, batch_id: uuid.UUID) -> list[HospitalRecord]:
    hospitals = state.store.list_batch(batch_id)
    if not hospitals:
        raise HTTPException(status_code=404, detail=BATCH_NOT_FOUND)
    return hospitals


@router.post("/", response_model=Hospital)
async def create_hospital(
    hospital: HospitalCreate, request: Request, state: StateDep
) -> HospitalRecord:
    """Create a hospital and return it with status 200.

    The hospital is inactive when `creation_batch_id` is given and active at once
    otherwise. The batch cap is checked before the create delay, so concurrent
    creates can push a batch past the cap. There is no idempotency key, so a
    repeated request creates a duplicate.
    """
    _count_request(
        state, request, endpoint="create_hospital", limit=state.faults.create_rate_per_minute
    )
    if _chance(state, state.faults.error_rate):
        logger.debug("Injected a 503 on create (error_rate=%s)", state.faults.error_rate)
        raise HTTPException(status_code=503, detail=SERVICE_UNAVAILABLE)
    _check_batch_cap(state, hospital.creation_batch_id)

    if state.faults.create_latency_ms:
        await asyncio.sleep(state.faults.create_latency_ms / 1000)

    record = state.store.insert(
        name=hospital.name,
        address=hospital.address,
        phone=hospital.phone,
        creation_batch_id=hospital.creation_batch_id,
        active=hospital.creation_batch_id is None,
        created_at=datetime.now(UTC).replace(tzinfo=None),
        max_hospitals=state.faults.max_hospitals,
    )

    if _chance(state, state.faults.store_then_hang_rate):
        logger.debug("Holding the response of stored hospital %d", record.id)
        await asyncio.sleep(state.faults.hang_seconds)
    return record


@router.get("/", response_model=list[Hospital])
async def list_hospitals(request: Request, state: StateDep) -> list[HospitalRecord]:
    """Return every hospital in id order."""
    _count_request(
        state, request, endpoint="list_hospitals", limit=state.faults.read_rate_per_minute
    )
    return state.store.list_all()


@router.get("/{hospital_id}", response_model=Hospital)
async def get_hospital(hospital_id: int, request: Request, state: StateDep) -> HospitalRecord:
    """Return one hospital, or 404 when no hospital has that id."""
    _count_request(state, request, endpoint="get_hospital", limit=state.faults.read_rate_per_minute)
    record = state.store.get(hospital_id)
    if record is None:
        raise HTTPException(status_code=404, detail=HOSPITAL_NOT_FOUND)
    return record


@router.put("/{hospital_id}", response_model=Hospital)
async def update_hospital(
    hospital_id: int, changes: HospitalUpdate, request: Request, state: StateDep
) -> HospitalRecord:
    """Change the name, address or phone of a hospital. `active` cannot be set here."""
    _count_request(
        state, request, endpoint="update_hospital", limit=state.faults.update_rate_per_minute
    )
    record = state.store.get(hospital_id)
    if record is None:
        raise HTTPException(status_code=404, detail=HOSPITAL_NOT_FOUND)

    updated = state.store.update(
        dataclasses.replace(record, **changes.model_dump(exclude_unset=True))
    )
    if updated is None:
        raise HTTPException(status_code=404, detail=HOSPITAL_NOT_FOUND)
    return updated


@router.delete("/{hospital_id}", status_code=204)
async def delete_hospital(hospital_id: int, request: Request, state: StateDep) -> Response:
    """Delete one hospital and return 204 with an empty body."""
    _count_request(
        state, request, endpoint="delete_hospital", limit=state.faults.delete_rate_per_minute
    )
    if not state.store.delete(hospital_id):
        raise HTTPException(status_code=404, detail=HOSPITAL_NOT_FOUND)
    return Response(status_code=204)


@router.get("/batch/{batch_id}", response_model=list[Hospital])
async def list_batch(
    batch_id: uuid.UUID, request: Request, state: StateDep
) -> list[HospitalRecord]:
    """Return the hospitals of a batch, or 404 (never an empty list) when it has none."""
    _count_request(state, request, endpoint="list_batch", limit=state.faults.read_rate_per_minute)
    return _require_batch(state, batch_id)


@router.patch("/batch/{batch_id}/activate", response_model=BatchActivation)
async def activate_batch(batch_id: uuid.UUID, request: Request, state: StateDep) -> BatchActivation:
    """Set every hospital of a batch active.

    Activation is one-shot. Once any hospital of the batch is active, every later
    activate returns 400, even for hospitals added to the batch afterwards.
    """
    _count_request(
        state, request, endpoint="activate_batch", limit=state.faults.activate_rate_per_minute
    )
    if state.faults.activation_fails:
        logger.debug("Injected a 503 on activate of batch %s", batch_id)
        raise HTTPException(status_code=503, detail=SERVICE_UNAVAILABLE)

    hospitals = _require_batch(state, batch_id)
    if any(hospital.active for hospital in hospitals):
        raise HTTPException(status_code=400, detail=BATCH_ALREADY_ACTIVE)
    activated = state.store.activate_batch(batch_id)
    return BatchActivation(
        activated_count=activated,
        message=f"Activated {activated} hospital(s) with batch ID {batch_id}",
    )


@router.delete("/batch/{batch_id}", response_model=BatchDeletion)
async def delete_batch(batch_id: uuid.UUID, request: Request, state: StateDep) -> BatchDeletion:
    """Delete every hospital of a batch, active or not, or return 404 when it has none."""
    _count_request(
        state, request, endpoint="delete_batch", limit=state.faults.delete_rate_per_minute
    )
    deleted = state.store.delete_batch(batch_id)
    if deleted == 0:
        raise HTTPException(status_code=404, detail=BATCH_NOT_FOUND)
    return BatchDeletion(
        deleted_count=deleted,
        message=f"Deleted {deleted} hospital(s) with batch ID {batch_id}",
    )
