"""Celery task bodies, and the resources one worker process builds once for all its tasks.

A task takes ids only and calls the same pipeline code as the in-process backend. Every
task of a process runs on one persistent event loop (`asyncio.Runner`). The Directory
client's connections and the asyncio Redis client of the shared limits belong to the loop
that opened them, so a fresh `asyncio.run` per task could not reuse them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from celery import Celery

from hospital_bulk.api.app import build_directory_client
from hospital_bulk.config import Settings
from hospital_bulk.directory.shared_limits import RedisCreateSlots, close_shared_limits
from hospital_bulk.jobs.activation import finalize_job
from hospital_bulk.jobs.context import PipelineContext
from hospital_bulk.jobs.pipeline import LeaseLost, process_chunk
from hospital_bulk.store.engine import create_store_engine
from hospital_bulk.store.repository import JobRepository
from hospital_bulk.workers.celery_app import FINALIZE_JOB, PROCESS_CHUNK
from hospital_bulk.workers.celery_backend import TaskDispatcher

logger = logging.getLogger(__name__)


class WorkerRuntime:
    """The store engine, Directory client, shared limits and event loop of one worker process.

    Build it in the process that runs the tasks (after the fork), never before: engines,
    sockets and event loops must not cross a fork.

    Args:
        settings: the worker's settings.
        app: the Celery app that sweeps send tasks through.
    """

    def __init__(self, settings: Settings, app: Celery) -> None:
        self.engine = create_store_engine(settings.job_store_url)
        self.slots = RedisCreateSlots.from_settings(settings)
        self.context = PipelineContext(
            settings=settings,
            repository=JobRepository(self.engine),
            client=build_directory_client(settings),
            slots=self.slots,
        )
        self.dispatcher = TaskDispatcher.from_settings(app, settings)
        self._runner = asyncio.Runner()

    def run(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run the coroutine to the end on this process's event loop.

        The loop stops between tasks, so the Directory slots this process keeps as spares
        go back to Redis before the task ends, for the chunks that other processes run.
        """
        self._runner.run(self._run_then_release(coroutine))

    async def _run_then_release(self, coroutine: Coroutine[Any, Any, None]) -> None:
        try:
            await coroutine
        finally:
            await self.slots.release_spares()

    def close(self) -> None:
        with self._runner:
            self._runner.run(self._close_connections())
        self.dispatcher.close()
        self.engine.dispose()

    async def _close_connections(self) -> None:
        await self.context.client.aclose()
        await close_shared_limits(self.slots, self.context.client.pacer)


_runtime: WorkerRuntime | None = None


def start_runtime(settings: Settings, app: Celery) -> WorkerRuntime:
    """Build this process's runtime; the tasks registered by `register_tasks` use it."""
    global _runtime
    _runtime = WorkerRuntime(settings, app)
    return _runtime


def stop_runtime() -> None:
    global _runtime
    if _runtime is not None:
        _runtime.close()
        _runtime = None


def register_tasks(app: Celery) -> None:
    """Register the task bodies on the worker's app under the names the API sends."""
    app.task(name=PROCESS_CHUNK)(run_chunk)
    app.task(name=FINALIZE_JOB)(run_final_step)


def run_chunk(job_id: str, chunk: int) -> None:
    """Create the chunk's rows, then finish the job if this was its last chunk."""
    runtime = _current_runtime()
    extra = {"job_id": job_id, "action": "chunk_task"}
    try:
        runtime.dispatcher.mark_started((job_id, chunk))
        runtime.run(process_chunk(runtime.context, job_id, chunk))
    except LeaseLost as error:
        logger.warning("%s; the worker that took it over finishes it", error, extra=extra)
    except Exception:
        # Acknowledging the task is safe: the chunk's lease runs out and a sweeper sends it again.
        logger.exception(
            "Work on chunk %d of job %s failed; it is sent again after its lease expires",
            chunk, job_id, extra=extra,
        )


def run_final_step(job_id: str) -> None:
    """Activate the job's batch and record its end, once every chunk is done."""
    runtime = _current_runtime()
    extra = {"job_id": job_id, "action": "final_step_task"}
    try:
        runtime.dispatcher.mark_started((job_id, None))
        runtime.run(finalize_job(runtime.context, job_id))
    except Exception:
        logger.exception(
            "The final step of job %s failed; it is sent again after its lease expires",
            job_id, extra=extra,
        )


def _current_runtime() -> WorkerRuntime:
    if _runtime is None:
        raise RuntimeError(
            "This process has no worker runtime: run tasks under `hospital-bulk worker`, which "
            "builds one in each worker process."
        )
    return _runtime
