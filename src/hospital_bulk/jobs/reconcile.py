"""Settle creates whose outcome is unknown by reading the batch back from the Directory.

The Directory's create has no idempotency key, so a create that timed out may have been
stored. Before such a row is sent again, the batch is listed and its hospitals that no row
of the job has claimed are matched to the unsettled rows by (name, address, phone), as a
multiset: two identical rows need two listed hospitals.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from hospital_bulk.jobs.context import PipelineContext
from hospital_bulk.jobs.models import HospitalKey, Job, RowOutcome, RowTodo
from hospital_bulk.jobs.outcome_writer import OutcomeWriter
from hospital_bulk.jobs.states import RowStatus

logger = logging.getLogger(__name__)


async def adopt_stored_rows(
    context: PipelineContext, job: Job, rows: list[RowTodo], writer: OutcomeWriter
) -> list[RowTodo]:
    """Record as created the rows the Directory already holds; return the rows it does not."""
    if not rows:
        return []
    await writer.flush()
    listing = await context.client.list_batch(job.batch_id)
    # NOTE: outcomes in another worker's buffer are not yet in the store. When two
    # chunks of one job hold identical rows and one reconciles while the other writes, both
    # could claim the same hospital; a unique (job_id, hospital_id) index would catch it.
    claimed = await asyncio.to_thread(context.repository.recorded_hospital_ids, job.id)
    unclaimed: dict[HospitalKey, list[int]] = defaultdict(list)
    for hospital in sorted(listing, key=lambda item: item.id):
        if hospital.id not in claimed:
            unclaimed[(hospital.name, hospital.address, hospital.phone)].append(hospital.id)

    missing: list[RowTodo] = []
    for row in rows:
        candidates = unclaimed.get(row.key)
        if candidates:
            writer.add(
                RowOutcome(row=row.row, status=RowStatus.CREATED, hospital_id=candidates.pop(0))
            )
        else:
            missing.append(row)
    adopted = len(rows) - len(missing)
    logger.info(
        "Reconciled %d rows of job %s against batch %s: %d already stored, %d to send",
        len(rows),
        job.id,
        job.batch_id,
        adopted,
        len(missing),
        extra={"job_id": job.id, "batch_id": job.batch_id, "action": "reconcile"},
    )
    return missing
