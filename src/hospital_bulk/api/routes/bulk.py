"""Uploads and batch activation."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, File, Header, Request, Response, UploadFile

from hospital_bulk.api.deps import OwnerDep, ServicesDep
from hospital_bulk.api.forms import ColumnMappingField, CsvFile, parse_column_mapping
from hospital_bulk.api.schemas import ActivationResponse, JobAccepted, ResubmitAccepted
from hospital_bulk.api.views import progress_percentage
from hospital_bulk.csv_input import read_hospital_csv
from hospital_bulk.errors import ActivationFailed
from hospital_bulk.jobs.activation import activate_job
from hospital_bulk.jobs.intake import Upload, accept_upload
from hospital_bulk.jobs.resubmit import resubmit_failed_rows as resubmit_rows
from hospital_bulk.jobs.states import JobStatus, RowStatus

router = APIRouter(prefix="/api/v1/hospitals", tags=["hospitals"])

_PROBLEM = {"content": {"application/problem+json": {}}}


@router.post(
    "/bulk",
    status_code=202,
    response_model=JobAccepted,
    responses={400: _PROBLEM, 401: _PROBLEM, 413: _PROBLEM, 415: _PROBLEM, 422: _PROBLEM},
)
async def upload_hospitals(
    request: Request,
    response: Response,
    services: ServicesDep,
    owner: OwnerDep,
    file: CsvFile,
    column_mapping: ColumnMappingField = None,
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", max_length=255, description="Unique per upload."),
    ] = None,
) -> JobAccepted:
    """Upload a CSV of hospitals; the rows are created in the background under one batch.

    Returns 202 once the file is read and stored. The same Idempotency-Key with the same
    file returns the same job (header `Idempotent-Replayed: true`); with another file, 422.
    """
    upload = Upload(
        filename=file.filename or "upload.csv",
        file=file.file,
        owner=owner,
        idempotency_key=idempotency_key,
        column_mapping=parse_column_mapping(column_mapping),
    )
    job, replayed = await accept_upload(
        upload, settings=services.settings, repository=services.repository, backend=services.backend
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return JobAccepted(
        job_id=job.id,
        status=job.status,
        progress_percentage=progress_percentage(job, services.repository.row_progress(job.id)),
        batch_id=job.batch_id,
        total_hospitals=job.total_rows,
        status_url=str(request.url_for("read_job_status", job_id=job.id)),
    )


@router.patch(
    "/bulk/batch/{batch_id}/activate",
    response_model=ActivationResponse,
    responses={404: _PROBLEM, 409: _PROBLEM, 502: _PROBLEM},
)
async def activate_hospital_batch(
    batch_id: str, services: ServicesDep, owner: OwnerDep
) -> ActivationResponse:
    """Activate a batch that was not auto-activated. Safe to repeat: an active batch returns 200."""
    job = services.repository.find_job_by_batch(batch_id, owner=owner)
    if job.status in (JobStatus.PENDING, JobStatus.PROCESSING):
        raise ActivationFailed(
            f"Job {job.id} is still {job.status.value}; its batch {batch_id} cannot be activated yet.",
            fix="Wait until the job's status is completed, then activate.",
            status_code=409,
        )
    counts = services.repository.count_rows(job.id)
    created = counts.get(RowStatus.CREATED, 0) + counts.get(RowStatus.CREATED_AND_ACTIVATED, 0)
    if created == 0:
        raise ActivationFailed(
            f"Batch {batch_id} has no created hospital to activate: every row of job {job.id} failed.",
            fix="Fix the rows and upload them again.",
            status_code=409,
        )
    result = await activate_job(services.context, job)
    if not result.activated:
        raise ActivationFailed(
            result.error or "The Directory did not activate the batch.",
            fix="Resubmit the missing rows."
            if result.missing_rows
            else "Retry the activation later.",
            status_code=409 if result.missing_rows else 502,
            extensions={
                "activated": False,
                "error_message": result.error,
                "batch_id": batch_id,
                "missing_rows": list(result.missing_rows) or None,
            },
        )
    return ActivationResponse(
        batch_id=batch_id,
        job_id=job.id,
        activated=True,
        activated_count=result.activated_count,
        message=f"Batch {batch_id} is active: {result.activated_count} hospital(s).",
    )


@router.post(
    "/bulk/{job_id}/resubmit",
    status_code=202,
    response_model=ResubmitAccepted,
    responses={404: _PROBLEM, 409: _PROBLEM, 422: _PROBLEM},
)
async def resubmit_failed_rows(
    job_id: str,
    request: Request,
    services: ServicesDep,
    owner: OwnerDep,
    file: Annotated[
        UploadFile | None,
        File(
            description="Optional corrections: a CSV with a 'row' column and new name, address, phone."
        ),
    ] = None,
) -> ResubmitAccepted:
    """Run a finished job's failed rows again, optionally with corrected values keyed by row.

    While the batch is not active the rows go into the same batch, and the job finishes
    and auto-activates again. Once it is active they go into a new job and batch
    (`same_batch: false`), because the Directory cannot activate rows added later.
    """
    job = services.repository.get_job(job_id, owner=owner)
    corrections = None
    if file is not None:
        corrections = await asyncio.to_thread(
            read_hospital_csv,
            file.file,
            filename=file.filename or "corrections.csv",
            max_rows=services.settings.max_rows,
        )
    result = await resubmit_rows(
        job,
        corrections=corrections,
        settings=services.settings,
        repository=services.repository,
        backend=services.backend,
    )
    where = (
        "the same batch"
        if result.same_batch
        else f"new batch {result.job.batch_id} (job {result.job.id})"
    )
    return ResubmitAccepted(
        job_id=result.job.id,
        batch_id=result.job.batch_id,
        same_batch=result.same_batch,
        resubmitted_rows=result.rows,
        status_url=str(request.url_for("read_job_status", job_id=result.job.id)),
        message=f"{len(result.rows)} row(s) resubmitted into {where}.",
    )
