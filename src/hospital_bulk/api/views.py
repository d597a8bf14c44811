"""Build the public shapes of jobs from stored values, in one place."""

from __future__ import annotations

from typing import Any

from hospital_bulk.api.schemas import HospitalResult, HospitalsPage, JobResult, JobStatusResponse
from hospital_bulk.jobs.models import Job, RowResult
from hospital_bulk.jobs.states import JobStatus, RowStatus
from hospital_bulk.store.repository import utcnow


def progress_percentage(job: Job, counts: dict[RowStatus, int]) -> int:
    """Share of rows with an outcome, 0 to 100; 100 only once the job has ended."""
    if job.status in (JobStatus.COMPLETED, JobStatus.FAILED):
        return 100
    if job.total_rows == 0:
        return 0
    done = job.total_rows - counts.get(RowStatus.PENDING, 0)
    return min(99, done * 100 // job.total_rows)


def job_status_body(
    job: Job,
    counts: dict[RowStatus, int],
    rows: list[dict[str, Any]],
    *,
    offset: int,
    limit: int,
    status_filter: RowStatus | None = None,
) -> dict[str, Any]:
    """The status response as JSON-ready data, with `rows` from `list_row_outcomes` as they are.

    The envelope goes through the pydantic model; the rows, up to thousands a poll, do not,
    because their shape is fixed by the query that reads them.
    """
    envelope = job_status(
        job, counts, [], offset=offset, limit=limit, returned=len(rows), status_filter=status_filter
    )
    body = envelope.model_dump(mode="json")
    body["result"]["hospitals"] = rows
    return body


def job_status(
    job: Job,
    counts: dict[RowStatus, int],
    rows: list[RowResult],
    *,
    offset: int,
    limit: int,
    returned: int | None = None,
    status_filter: RowStatus | None = None,
) -> JobStatusResponse:
    created = counts.get(RowStatus.CREATED, 0) + counts.get(RowStatus.CREATED_AND_ACTIVATED, 0)
    end = offset + (len(rows) if returned is None else returned)
    # The page runs over the rows that match the filter, so its total counts only those.
    page_total = counts.get(status_filter, 0) if status_filter else job.total_rows
    return JobStatusResponse(
        job_id=job.id,
        status=job.status,
        progress_percentage=progress_percentage(job, counts),
        filename=job.filename,
        created_at=job.created_at,
        error=job.error,
        warnings=list(job.file_report.get("warnings", [])),
        result=JobResult(
            batch_id=job.batch_id,
            total_hospitals=job.total_rows,
            processed_hospitals=created,
            failed_hospitals=counts.get(RowStatus.FAILED, 0),
            pending_hospitals=counts.get(RowStatus.PENDING, 0),
            processing_time_seconds=_processing_seconds(job),
            batch_activated=job.batch_activated,
            activation_error=job.activation_error,
            hospitals=[_hospital(row) for row in rows],
            hospitals_page=HospitalsPage(
                offset=offset,
                limit=limit,
                total=page_total,
                next_offset=end if offset < end < page_total else None,
            ),
        ),
    )


def _processing_seconds(job: Job) -> float | None:
    if job.started_at is None:
        return None
    end = job.finished_at or utcnow()
    return round((end - job.started_at).total_seconds(), 3)


def _hospital(row: RowResult) -> HospitalResult:
    return HospitalResult(
        row=row.row,
        hospital_id=row.hospital_id,
        name=row.name,
        status=row.status,
        error_message=row.error_message,
        warnings=row.warnings,
    )
