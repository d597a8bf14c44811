"""Fix and resubmit: run a finished job's failed rows again, optionally with corrected values.

While the job's batch is not active, the rows go back into the same batch and the job
finishes again by the same auto-activation rule. Once the batch is active they go into a
new job with a new batch, because the Directory can never activate rows added to a batch
after its activation.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from hospital_bulk.config import Settings
from hospital_bulk.csv_input import CsvReport, HospitalRow
from hospital_bulk.errors import UploadRejected
from hospital_bulk.jobs.backend import JobBackend
from hospital_bulk.jobs.models import Job, NewJob, NewRow, RowResult
from hospital_bulk.jobs.states import JobStatus, RowStatus
from hospital_bulk.store.repository import JobRepository

#: Header of the column that names the job's row a correction replaces.
ROW_COLUMN = "row"


@dataclass(frozen=True, slots=True)
class Resubmission:
    job: Job
    rows: list[int]
    same_batch: bool


async def resubmit_failed_rows(
    job: Job,
    *,
    corrections: CsvReport | None,
    settings: Settings,
    repository: JobRepository,
    backend: JobBackend,
) -> Resubmission:
    """Queue the job's failed rows again; `corrections` replaces values by row number.

    Raises:
        UploadRejected: the job is still running, no row failed, or a correction names a
            row that did not fail.
    """
    if job.status in (JobStatus.PENDING, JobStatus.PROCESSING):
        raise UploadRejected(
            f"Job {job.id} is still {job.status.value}.",
            fix="Wait until it completes, then resubmit its failed rows.",
            status_code=409,
        )
    failed = await asyncio.to_thread(repository.list_rows, job.id, statuses=[RowStatus.FAILED])
    rows = (
        _corrected_rows(job, failed, corrections)
        if corrections
        else [_as_new(row) for row in failed]
    )
    if not rows:
        raise UploadRejected(
            f"Job {job.id} has no failed row to resubmit.",
            fix="Only rows with status failed can be resubmitted.",
            status_code=409,
        )
    if job.batch_activated:
        target = await _new_job(job, rows, settings=settings, repository=repository)
    else:
        await asyncio.to_thread(
            repository.reopen_rows, job.id, rows, chunk_size=settings.chunk_size
        )
        target = await asyncio.to_thread(repository.get_job, job.id)
    await backend.enqueue_job(target.id)
    return Resubmission(
        job=target, rows=[row.row for row in rows], same_batch=not job.batch_activated
    )


def _corrected_rows(job: Job, failed: list[RowResult], corrections: CsvReport) -> list[NewRow]:
    by_row = {row.row: row for row in failed}
    rows: list[NewRow] = []
    for correction in corrections.rows:
        number = _row_number(correction, corrections.filename)
        original = by_row.get(number)
        if original is None:
            raise UploadRejected(
                f"Row {number} of job {job.id} did not fail, so it cannot be resubmitted "
                f"({corrections.filename!r}, row {correction.row}).",
                fix="Keep only rows whose status is failed in the corrections file.",
            )
        rows.append(
            NewRow(
                row=number,
                name=correction.name,
                address=correction.address,
                phone=correction.phone,
                error_message=_correction_errors(correction, corrections.filename),
                source=original.source,
            )
        )
    return rows


def _correction_errors(correction: HospitalRow, filename: str) -> str | None:
    if not correction.errors:
        return None
    return f"Corrected values in {filename!r} are invalid: " + " ".join(correction.errors)


def _row_number(correction: HospitalRow, filename: str) -> int:
    cells = {header.strip().lower(): value for header, value in correction.source.items()}
    value = cells.get(ROW_COLUMN, "").strip()
    if not value.isdigit():
        raise UploadRejected(
            f"Row {correction.row} of {filename!r} has no valid value in the {ROW_COLUMN!r} "
            f"column: {value!r}.",
            fix="Add a 'row' column with the job's row number of each corrected row.",
        )
    return int(value)


def _as_new(row: RowResult) -> NewRow:
    return NewRow(
        row=row.row, name=row.name, address=row.address, phone=row.phone, source=row.source
    )


async def _new_job(
    job: Job, rows: list[NewRow], *, settings: Settings, repository: JobRepository
) -> Job:
    new = NewJob(
        id=str(uuid.uuid4()),
        batch_id=str(uuid.uuid4()),
        filename=job.filename,
        fingerprint=f"resubmission of {job.id}"[:64],
        owner=job.owner,
        file_report={**job.file_report, "resubmission_of": job.id},
    )
    stored, _ = await asyncio.to_thread(
        repository.create_job, new, rows, chunk_size=settings.chunk_size
    )
    return stored
