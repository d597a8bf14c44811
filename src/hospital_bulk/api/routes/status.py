"""Job status and the list of jobs."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response

from hospital_bulk.api.deps import OwnerDep, ServicesDep
from hospital_bulk.api.schemas import JobStatusResponse, JobSummary
from hospital_bulk.api.views import job_status_body
from hospital_bulk.jobs.activation import check_directory
from hospital_bulk.jobs.states import RowStatus

router = APIRouter(prefix="/api/v1/hospitals", tags=["hospitals"])

#: Rows per status page; the CMS file's 5,320 rows fit in one.
MAX_PAGE = 10_000


@router.get(
    "/status/{job_id}",
    response_model=JobStatusResponse,
    responses={404: {"content": {"application/problem+json": {}}}},
)
async def read_job_status(
    job_id: str,
    services: ServicesDep,
    owner: OwnerDep,
    offset: Annotated[int, Query(ge=0, description="First row of the page of hospitals.")] = 0,
    limit: Annotated[
        int, Query(ge=0, le=MAX_PAGE, description="Rows per page of hospitals.")
    ] = MAX_PAGE,
    status: Annotated[RowStatus | None, Query(description="Only rows with this status.")] = None,
    verify: Annotated[
        bool, Query(description="Also list the batch in the Directory and name rows it lost.")
    ] = False,
) -> Response:
    """Progress and per-row outcome of a job; `hospitals` is paged by `offset` and `limit`."""

    def read() -> dict[str, Any]:
        repository = services.repository
        job = repository.get_job(job_id, owner=owner)
        counts = repository.row_progress(job_id)
        statuses = [status] if status else None
        hospitals, returned = (
            repository.row_outcomes_json(job_id, offset=offset, limit=limit, statuses=statuses)
            if limit
            else (b"[]", 0)
        )
        return job_status_body(
            job,
            counts,
            orjson.Fragment(hospitals),
            returned=returned,
            offset=offset,
            limit=limit,
            status_filter=status,
        )

    body = await asyncio.to_thread(read)
    if verify:
        job = await asyncio.to_thread(services.repository.get_job, job_id, owner=owner)
        check = await check_directory(services.context, job)
        body["result"]["directory_check"] = {
            "missing_rows": list(check.missing_rows),
            "inactive_rows": list(check.inactive_rows),
            "message": check.message,
        }
    # The page of rows is JSON already, so orjson only wraps the envelope around it.
    content = orjson.dumps(body)
    return Response(content, media_type="application/json")


@router.get("/jobs", response_model=list[JobSummary])
def list_jobs(
    services: ServicesDep,
    owner: OwnerDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[JobSummary]:
    """List the caller's most recent jobs, newest first."""
    return [
        JobSummary(
            job_id=job.id,
            status=job.status,
            filename=job.filename,
            batch_id=job.batch_id,
            total_hospitals=job.total_rows,
            batch_activated=job.batch_activated,
            created_at=job.created_at,
        )
        for job in services.repository.list_jobs(owner=owner, limit=limit)
    ]
