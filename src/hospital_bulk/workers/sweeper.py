"""The sweeper both job backends run: find work that no live worker has claimed, enqueue it.

The job store, not the queue, is the source of truth. A chunk whose worker died keeps an
expired lease, a chunk whose task was lost stays pending, and a job whose last chunk ended
without its final step stays unfinished; the sweeper hands each of them out again.
Enqueueing twice is harmless, because claiming a chunk or a job's final step is atomic.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from hospital_bulk.config import Settings
from hospital_bulk.store.repository import JobRepository, utcnow

logger = logging.getLogger(__name__)

#: One unit of work: (job_id, chunk); a chunk of None means the job's final step.
WorkItem = tuple[str, int | None]

#: Sends a work item to a runner; returns False when the item was already queued.
Enqueue = Callable[[WorkItem], Awaitable[bool]]


class StalledWorkSweeper:
    """Enqueue stalled chunks and unfinished jobs every `interval` seconds.

    Args:
        repository: the job store.
        settings: supplies how long idempotency keys are kept.
        enqueue: sends one work item to whatever runs work.
        interval: seconds between two sweeps.
        pending_for: seconds a job must exist before its pending chunks count as stalled.
    """

    def __init__(
        self,
        repository: JobRepository,
        settings: Settings,
        *,
        enqueue: Enqueue,
        interval: float,
        pending_for: float = 0.0,
    ) -> None:
        self._repository = repository
        self._retention = timedelta(hours=settings.idempotency_retention_hours)
        self._enqueue = enqueue
        self.interval = interval
        self._pending_for = pending_for

    async def run(self) -> None:
        """Sweep until cancelled; a failed sweep is logged and tried again after `interval`."""
        while True:
            try:
                await self.sweep_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception(
                    "Looking for stalled work failed; trying again in %.1f s", self.interval
                )
            await asyncio.sleep(self.interval)

    async def sweep_once(self) -> int:
        """Enqueue the stalled work found now, release old idempotency keys; return items sent."""
        repository = self._repository
        pending_for = self._pending_for
        chunks, jobs = await asyncio.to_thread(repository.stalled_work, pending_for=pending_for)
        sent = 0
        for ref in chunks:
            sent += await self._enqueue((ref.job_id, ref.chunk))
        for job_id in jobs:
            sent += await self._enqueue((job_id, None))
        if sent:
            logger.info(
                "Enqueued %d stalled work items (%d chunks and %d final steps found)",
                sent, len(chunks), len(jobs), extra={"action": "sweep"},
            )
        await asyncio.to_thread(
            repository.forget_idempotency_keys, older_than=utcnow() - self._retention
        )
        return sent
