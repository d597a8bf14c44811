"""Process one chunk of a job: create its rows in the Directory, then try to finish the job.

Both shapes run this code: the in-process worker calls it directly and the Celery task
calls it with ids. The store decides who works on what: a chunk is claimed with a lease
that a heartbeat keeps alive, and a chunk whose worker died is claimed again once the
lease runs out. A chunk claimed for the second time first settles its rows against the
batch listing, because the dead worker may have stored some of them without recording it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from hospital_bulk.directory import Created, Rejected
from hospital_bulk.jobs.activation import finalize_job
from hospital_bulk.jobs.context import PipelineContext
from hospital_bulk.jobs.models import ChunkClaim, Job, RowOutcome, RowTodo
from hospital_bulk.jobs.outcome_writer import OutcomeWriter
from hospital_bulk.jobs.reconcile import adopt_stored_rows
from hospital_bulk.jobs.states import RowStatus

logger = logging.getLogger(__name__)

#: Rounds of "list the batch, then resend what is missing" for creates that timed out.
SETTLE_ROUNDS = 3


class LeaseLost(Exception):
    """Raised when another worker took over a chunk because this worker's lease ran out."""


async def process_chunk(context: PipelineContext, job_id: str, chunk: int) -> None:
    """Create the chunk's pending rows, then finish the job if this was its last chunk."""
    repository = context.repository
    claim = await asyncio.to_thread(
        repository.claim_chunk,
        job_id,
        chunk,
        worker=context.worker,
        lease_seconds=context.settings.lease_seconds,
    )
    if claim is None:
        return  # Done already, or held by a live worker.
    job = await asyncio.to_thread(repository.get_job, job_id)
    await asyncio.to_thread(repository.mark_started, job_id)

    if claim.deliveries > context.settings.max_deliveries:
        await _give_up_chunk(context, job, claim)
    else:
        async with _heartbeat(context, claim):
            await _create_chunk_rows(context, job, claim)
        await asyncio.to_thread(repository.complete_chunk, claim)
    await finalize_job(context, job_id)


async def _create_chunk_rows(context: PipelineContext, job: Job, claim: ChunkClaim) -> None:
    rows = await asyncio.to_thread(context.repository.pending_rows, job.id, claim.chunk)
    if not rows:
        return
    await context.client.warm_up()
    async with OutcomeWriter(context.repository, job.id) as writer:
        if claim.needs_reconcile:
            logger.info(
                "Resuming chunk %d of job %s (delivery %d)",
                claim.chunk,
                job.id,
                claim.deliveries,
                extra={"job_id": job.id, "batch_id": job.batch_id, "action": "resume_chunk"},
            )
            rows = await adopt_stored_rows(context, job, rows, writer)
        unsettled = await _create_rows(context, job, rows, writer)
        for _ in range(SETTLE_ROUNDS):
            if not unsettled:
                break
            await asyncio.sleep(context.settings.reconcile_grace)
            missing = await adopt_stored_rows(context, job, unsettled, writer)
            unsettled = await _create_rows(context, job, missing, writer)
        for row in unsettled:
            writer.add(_unsettled_outcome(row))


async def _create_rows(
    context: PipelineContext, job: Job, rows: list[RowTodo], writer: OutcomeWriter
) -> list[RowTodo]:
    """Send creates with bounded concurrency; return the rows whose outcome is unknown."""
    unsettled: list[RowTodo] = []
    pending = iter(rows)

    async def send_next() -> None:
        for row in pending:
            async with context.slots:
                outcome = await context.client.create_hospital(
                    name=row.name, address=row.address, phone=row.phone, batch_id=job.batch_id
                )
            if isinstance(outcome, Created):
                writer.add(RowOutcome(row.row, RowStatus.CREATED, hospital_id=outcome.hospital_id))
            elif isinstance(outcome, Rejected):
                writer.add(RowOutcome(row.row, RowStatus.FAILED, error_message=outcome.message))
                _log_row(logging.WARNING, "Row %d of job %s failed: %s", row, job, outcome.message)
            else:
                unsettled.append(row)
                _log_row(
                    logging.WARNING,
                    "Row %d of job %s has an unknown outcome: %s",
                    row,
                    job,
                    outcome.reason,
                )

    senders = min(context.settings.concurrency, len(rows))
    await asyncio.gather(*(send_next() for _ in range(senders)))
    return unsettled


def _unsettled_outcome(row: RowTodo) -> RowOutcome:
    message = (
        f"The Directory did not confirm the create after {SETTLE_ROUNDS + 1} tries and the row "
        "is not in the batch listing. Resubmit the row once the Directory is healthy."
    )
    return RowOutcome(row.row, RowStatus.FAILED, error_message=message)


async def _give_up_chunk(context: PipelineContext, job: Job, claim: ChunkClaim) -> None:
    # The workers that died may have stored some rows, so those are adopted first and
    # only the rows the Directory does not have end failed.
    rows = await asyncio.to_thread(context.repository.pending_rows, job.id, claim.chunk)
    async with OutcomeWriter(context.repository, job.id) as writer:
        missing = await adopt_stored_rows(context, job, rows, writer)
    message = (
        f"A worker processing these rows stopped {claim.deliveries - 1} times (limit "
        f"{context.settings.max_deliveries}); the rows were not created. Check the worker logs, "
        "then resubmit the failed rows."
    )
    logger.error(
        "Chunk %d of job %s exceeded %d deliveries; %d of its rows end failed",
        claim.chunk,
        job.id,
        context.settings.max_deliveries,
        len(missing),
        extra={"job_id": job.id, "batch_id": job.batch_id, "action": "chunk_given_up"},
    )
    await asyncio.to_thread(context.repository.fail_chunk, job.id, claim.chunk, message=message)


@contextlib.asynccontextmanager
async def _heartbeat(context: PipelineContext, claim: ChunkClaim) -> AsyncIterator[None]:
    """Renew the chunk's lease while the body runs; cancel the body if the lease is lost."""
    body = asyncio.current_task()
    lost = False

    async def renew() -> None:
        nonlocal lost
        interval = context.settings.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            renewed = await asyncio.to_thread(
                context.repository.renew_chunk_lease,
                claim,
                lease_seconds=context.settings.lease_seconds,
            )
            if not renewed and body is not None:
                lost = True
                body.cancel()
                return

    task = asyncio.create_task(renew())
    try:
        yield
    except asyncio.CancelledError:
        if lost and body is not None:
            body.uncancel()
            raise LeaseLost(f"Chunk {claim.chunk} of job {claim.job_id} was taken over") from None
        raise
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _log_row(level: int, message: str, row: RowTodo, job: Job, reason: str) -> None:
    logger.log(
        level,
        message,
        row.row,
        job.id,
        reason,
        extra={"job_id": job.id, "batch_id": job.batch_id, "row": row.row, "action": "row_outcome"},
    )
