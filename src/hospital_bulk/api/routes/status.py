"""Job status and the list of jobs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse

from hospital_bulk.api.deps import OwnerDep, ServicesDep
from hospital_bulk.api.schemas import JobStatusResponse, JobSummary
from hospital_bulk.api.views import job_status_body, page_length
from hospital_bulk.jobs.activation import check_directory
from hospital_bulk.jobs.models import Job
from hospital_bulk.jobs.states import RowStatus
from hospital_bulk.store.repository import JobRepository

router = APIRouter(prefix="/api/v1/hospitals", tags=["hospitals"])

#: Rows per status page; the CMS file's 5,320 rows fit in one.
MAX_PAGE = 10_000
#: Rows read from the store and sent at a time while a page streams.
PAGE_BATCH = 500


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
    repository = services.repository

    def read() -> tuple[Job, dict[RowStatus, int]]:
        return repository.get_job(job_id, owner=owner), repository.row_progress(job_id)

    job, counts = await asyncio.to_thread(read)
    returned = page_length(job, counts, offset=offset, limit=limit, status_filter=status)
    # The rows go where this placeholder is. orjson escapes a NUL inside any string, so
    # the only NUL byte of the envelope is the placeholder.
    body = job_status_body(
        job,
        counts,
        orjson.Fragment(b"\x00"),
        returned=returned,
        offset=offset,
        limit=limit,
        status_filter=status,
    )
    if verify:
        check = await check_directory(services.context, job)
        body["result"]["directory_check"] = {
            "missing_rows": list(check.missing_rows),
            "inactive_rows": list(check.inactive_rows),
            "message": check.message,
        }
    head, tail = orjson.dumps(body).split(b"\x00")
    if not returned:
        return Response(head + b"[]" + tail, media_type="application/json")
    statuses = [status] if status else None
    return StreamingResponse(
        _stream_page(repository, job_id, head, tail, offset, returned, statuses),
        media_type="application/json",
    )


async def _stream_page(
    repository: JobRepository,
    job_id: str,
    head: bytes,
    tail: bytes,
    offset: int,
    limit: int,
    statuses: list[RowStatus] | None,
) -> AsyncIterator[bytes]:
    """Yield the status body with its page of rows read and sent `PAGE_BATCH` rows at a time.

    A page of 10,000 rows built whole was copied several times as one string on its way
    out, and the allocator of the reading thread kept that memory after the response.
    Three such reads left the embedded service 10 to 18 MB larger
    (benchmarks/upload_memory.py).
    NOTE: if the database fails after the first batch, the response ends early and the
    client gets invalid JSON instead of a problem response.
    """
    batches = repository.row_outcomes_json(
        job_id, offset=offset, limit=limit, statuses=statuses, batch_rows=PAGE_BATCH
    )
    try:
        yield head + b"["
        separator = b""
        while (batch := await asyncio.to_thread(next, batches, None)) is not None:
            yield separator + batch
            separator = b","
        yield b"]" + tail
    finally:
        # Closing returns the connection to the pool when the client leaves early. If it
        # left while a batch was being read, the generator is still running in its thread
        # (ValueError), and it closes when that thread drops it.
        with contextlib.suppress(ValueError):
            await asyncio.to_thread(batches.close)


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
