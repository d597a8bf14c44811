"""Build the public shapes of jobs from stored values, in one place."""

from __future__ import annotations

from typing import Any

from hospital_bulk.api.schemas import HospitalsPage, JobResult, JobStatusResponse
from hospital_bulk.jobs.models import Job
from hospital_bulk.jobs.states import JobStatus, RowStatus
from hospital_bulk.store.repository import utcnow


def progress_percentage(job: Job, counts: dict[RowStatus, int]) -> int:
    """Return the share of rows with an outcome, 0 to 100, and 100 only once the job has ended."""
    if job.status in (JobStatus.COMPLETED, JobStatus.FAILED):
        return 100
    if job.total_rows == 0:
        return 0
    done = job.total_rows - counts.get(RowStatus.PENDING, 0)
    return min(99, done * 100 // job.total_rows)


def job_status_body(
    job: Job,
    counts: dict[RowStatus, int],
    hospitals: Any,
    *,
    returned: int,
    offset: int,
    limit: int,
    status_filter: RowStatus | None = None,
) -> dict[str, Any]:
    """Build the status response as JSON-ready data around a page of `returned` rows.

    The envelope goes through the pydantic model. The rows (up to thousands a poll) do not,
    because the query that reads them fixes their shape: `hospitals` is an `orjson.Fragment`,
    which the status route fills with the JSON that `row_outcomes_json` builds.
    """
    envelope = _status_envelope(
        job, counts, offset=offset, limit=limit, returned=returned, status_filter=status_filter
    )
    body = envelope.model_dump(mode="json")
    body["result"]["hospitals"] = hospitals
    return body


def page_length(
    job: Job,
    counts: dict[RowStatus, int],
    *,
    offset: int,
    limit: int,
    status_filter: RowStatus | None = None,
) -> int:
    """Return how many rows the page from `offset` holds, by the counts of rows per status.

    While a job runs, rows change status between the counts and the reading of the rows,
    so a page filtered by status may then hold fewer rows than this, never more.
    """
    return max(0, min(limit, _page_total(job, counts, status_filter) - offset))


def _page_total(job: Job, counts: dict[RowStatus, int], status_filter: RowStatus | None) -> int:
    # The page runs over the rows that match the filter, so its total counts only those.
    return counts.get(status_filter, 0) if status_filter else job.total_rows


def _status_envelope(
    job: Job,
    counts: dict[RowStatus, int],
    *,
    offset: int,
    limit: int,
    returned: int,
    status_filter: RowStatus | None,
) -> JobStatusResponse:
    created = counts.get(RowStatus.CREATED, 0) + counts.get(RowStatus.CREATED_AND_ACTIVATED, 0)
    end = offset + returned
    page_total = _page_total(job, counts, status_filter)
    return JobStatusResponse(
        job_id=job.id,
        status=job.status,
        progress_percentage=progress_percentage(job, counts),
        filename=job.filename,
        created_at=job.created_at,
        finished_at=job.finished_at,
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
            hospitals=[],
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
