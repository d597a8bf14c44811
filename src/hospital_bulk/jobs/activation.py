"""Finish a job and activate its batch: automatically when every row was created, or on request.

The upstream's activation is one-shot: it returns 400 once any hospital of the batch is
active, including when our own earlier activation went through but its response was lost.
So a 400, a timeout or a 5xx is never taken at its word: the batch listing decides whether
our hospitals are live. Nothing is ever rolled back.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from hospital_bulk.directory import Activated, AlreadyActive, BatchNotFound, NotActivated
from hospital_bulk.jobs.context import PipelineContext
from hospital_bulk.jobs.models import Job
from hospital_bulk.jobs.states import JobStatus, RowStatus
from hospital_bulk.metrics import JOBS_FINISHED

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ActivationResult:
    activated: bool
    activated_count: int = 0
    #: Why the batch is not active, as a sentence for the user; None when it is.
    error: str | None = None
    #: Rows we created that the Directory no longer lists (it lost them in a restart).
    missing_rows: tuple[int, ...] = ()


async def finalize_job(context: PipelineContext, job_id: str) -> None:
    """End the job once every chunk is done: auto-activate by the decision rule, record it."""
    repository = context.repository
    claimed = await asyncio.to_thread(
        repository.claim_finalization,
        job_id,
        worker=context.worker,
        lease_seconds=context.settings.lease_seconds,
    )
    if not claimed:
        return
    job = await asyncio.to_thread(repository.get_job, job_id)
    counts = await asyncio.to_thread(repository.count_rows, job_id)
    failed = counts.get(RowStatus.FAILED, 0)
    created = counts.get(RowStatus.CREATED, 0) + counts.get(RowStatus.CREATED_AND_ACTIVATED, 0)
    extra = {"job_id": job.id, "batch_id": job.batch_id, "action": "finalize_job"}

    if failed == 0 and created > 0:
        result = await _auto_activate(context, job, created, extra)
        await asyncio.to_thread(
            repository.finish_job,
            job_id,
            batch_activated=result.activated,
            activation_error=result.error,
        )
    else:
        logger.warning(
            "%d of %d hospitals failed in job %s; batch %s NOT activated. Review the failures, then "
            "activate with PATCH /api/v1/hospitals/bulk/batch/%s/activate if acceptable",
            failed,
            job.total_rows,
            job.id,
            job.batch_id,
            job.batch_id,
            extra=extra,
        )
        await asyncio.to_thread(repository.finish_job, job_id, batch_activated=False)
    JOBS_FINISHED.labels(JobStatus.COMPLETED.value, str(failed == 0 and created > 0).lower()).inc()


async def _auto_activate(
    context: PipelineContext, job: Job, created: int, extra: dict[str, str]
) -> ActivationResult:
    logger.info(
        "All hospitals created successfully for job %s (%d rows)", job.id, created, extra=extra
    )
    logger.info("Attempting to auto-activate batch %s", job.batch_id, extra=extra)
    result = await activate_batch(context, job)
    if result.activated:
        logger.info(
            "Batch %s auto-activated successfully (%d hospitals)",
            job.batch_id,
            result.activated_count,
            extra=extra,
        )
    else:
        logger.warning(
            "Auto-activation failed for batch %s: %s", job.batch_id, result.error, extra=extra
        )
        logger.warning(
            "Manual activation available: PATCH /api/v1/hospitals/bulk/batch/%s/activate",
            job.batch_id,
            extra=extra,
        )
    return result


async def activate_job(context: PipelineContext, job: Job) -> ActivationResult:
    """Activate the batch of a finished job on request, and record the outcome on its rows."""
    extra = {"job_id": job.id, "batch_id": job.batch_id, "action": "activate_batch"}
    logger.info("Activating batch %s of job %s", job.batch_id, job.id, extra=extra)
    result = await activate_batch(context, job)
    await asyncio.to_thread(
        context.repository.record_activation, job.id, activated=result.activated, error=result.error
    )
    if result.activated:
        logger.info(
            "Batch %s activated successfully (%d hospitals)",
            job.batch_id,
            result.activated_count,
            extra=extra,
        )
    else:
        logger.warning("Activating batch %s failed: %s", job.batch_id, result.error, extra=extra)
    return result


async def activate_batch(context: PipelineContext, job: Job) -> ActivationResult:
    """Send the activation once, then let the batch listing settle any doubt."""
    outcome = await context.client.activate_batch(job.batch_id)
    if isinstance(outcome, Activated):
        return ActivationResult(activated=True, activated_count=outcome.activated_count)
    if isinstance(outcome, NotActivated) and not outcome.outcome_unknown:
        return ActivationResult(activated=False, error=outcome.reason)
    if isinstance(outcome, BatchNotFound | AlreadyActive | NotActivated):
        return await _activation_from_listing(context, job, outcome)
    raise AssertionError(f"unexpected activation outcome {outcome!r}")


@dataclass(frozen=True, slots=True)
class DirectoryCheck:
    """The job's created rows compared with the Directory's own batch listing."""

    created: int
    missing_rows: tuple[int, ...]
    inactive_rows: tuple[int, ...]

    @property
    def message(self) -> str | None:
        """A sentence for the user when the Directory lost rows; None when it has them all."""
        if not self.missing_rows:
            return None
        return (
            f"The Directory no longer has {len(self.missing_rows)} of the {self.created} hospitals "
            f"this job created (rows {_row_list(self.missing_rows)}); it may have restarted and "
            "lost them. Resubmit those rows."
        )


async def check_directory(context: PipelineContext, job: Job) -> DirectoryCheck:
    """List the job's batch in the Directory and find the created rows it no longer has."""
    listing = await context.client.list_batch(job.batch_id)
    ours = await asyncio.to_thread(_created_rows_by_hospital, context, job.id)
    listed = {hospital.id: hospital for hospital in listing}
    return DirectoryCheck(
        created=len(ours),
        missing_rows=tuple(
            sorted(row for hospital_id, row in ours.items() if hospital_id not in listed)
        ),
        inactive_rows=tuple(
            sorted(
                row
                for hospital_id, row in ours.items()
                if hospital_id in listed and not listed[hospital_id].active
            )
        ),
    )


async def _activation_from_listing(
    context: PipelineContext, job: Job, outcome: object
) -> ActivationResult:
    check = await check_directory(context, job)
    if check.missing_rows:
        return ActivationResult(
            activated=False, missing_rows=check.missing_rows, error=check.message
        )
    if not check.inactive_rows:
        return ActivationResult(activated=True, activated_count=check.created)
    reason = (
        outcome.reason
        if isinstance(outcome, NotActivated)
        else "some hospitals are active, others not"
    )
    return ActivationResult(
        activated=False,
        error=f"Batch {job.batch_id} is not active: {reason}. Retry the activation later.",
    )


def _created_rows_by_hospital(context: PipelineContext, job_id: str) -> dict[int, int]:
    rows = context.repository.list_rows(
        job_id, statuses=[RowStatus.CREATED, RowStatus.CREATED_AND_ACTIVATED]
    )
    return {row.hospital_id: row.row for row in rows if row.hospital_id is not None}


def _row_list(rows: tuple[int, ...], shown: int = 20) -> str:
    text = ", ".join(str(row) for row in rows[:shown])
    return f"{text}, ..." if len(rows) > shown else text
