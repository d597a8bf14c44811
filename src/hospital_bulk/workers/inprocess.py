"""The in-process job backend of the embedded shape.

Work items (a chunk, or a job's final step) go through an asyncio queue to a few runner
tasks in the API's own event loop; the Directory concurrency limit is shared by all of
them. A sweeper finds chunks left by a stopped or crashed process once their lease has run
out, so an interrupted job resumes after a restart with its batch_id and no duplicate.
Limit: one process; for more, use the Celery backend.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from hospital_bulk.jobs.activation import finalize_job
from hospital_bulk.jobs.context import PipelineContext
from hospital_bulk.jobs.pipeline import process_chunk
from hospital_bulk.workers.sweeper import StalledWorkSweeper, WorkItem

logger = logging.getLogger(__name__)


class InProcessBackend:
    """Run chunks in this process's event loop.

    Args:
        context: the pipeline context shared by all runners.
        runners: chunks processed at once; creates stay bounded by the context's slots.
        sweep_interval: seconds between looks for stalled work.
    """

    def __init__(self, context: PipelineContext, *, runners: int = 4, sweep_interval: float = 2.0) -> None:
        self.context = context
        self._runners = runners
        self._sweep_interval = sweep_interval
        self._queue: asyncio.Queue[WorkItem] = asyncio.Queue()
        self._queued: set[WorkItem] = set()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run()) for _ in range(self._runners)]
        sweeper = StalledWorkSweeper(
            self.context.repository, self.context.settings, enqueue=self._enqueue,
            interval=self._sweep_interval,
        )
        self._tasks.append(asyncio.create_task(sweeper.run()))
        logger.info("In-process worker started with %d runners", self._runners)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    async def enqueue_job(self, job_id: str) -> None:
        chunks = await asyncio.to_thread(self.context.repository.open_chunks, job_id)
        for chunk in chunks or [None]:
            self._put((job_id, chunk))

    def _put(self, item: WorkItem) -> bool:
        if item in self._queued:
            return False
        self._queued.add(item)
        self._queue.put_nowait(item)
        return True

    async def _enqueue(self, item: WorkItem) -> bool:
        return self._put(item)

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            job_id, chunk = item
            try:
                if chunk is None:
                    await finalize_job(self.context, job_id)
                else:
                    await process_chunk(self.context, job_id, chunk)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The chunk's lease runs out and the sweeper hands it out again.
                logger.exception(
                    "Work on job %s chunk %s failed; it will be retried after its lease expires",
                    job_id, chunk, extra={"job_id": job_id, "action": "work_failed"},
                )
            finally:
                self._queued.discard(item)
