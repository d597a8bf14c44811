"""The API side of the distributed shape: send tasks to Celery workers, sweep stalled work.

`TaskDispatcher` sends tasks and is shared with the workers' sweepers. It keeps a mark in
Redis for each work item sent and not yet started, so that the sweepers of every API and
worker process do not send a queued item again. A worker deletes the mark when it starts
the task. From then on the chunk's lease shows whether the work is alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

import redis
from celery import Celery
from kombu.exceptions import OperationalError as BrokerError
from kombu.utils.url import maybe_sanitize_url

from hospital_bulk.config import Settings
from hospital_bulk.directory.shared_limits import KEY_PREFIX, close_shared_limits, limits_redis_url
from hospital_bulk.jobs.context import PipelineContext
from hospital_bulk.workers.celery_app import FINALIZE_JOB, PROCESS_CHUNK, create_celery_app
from hospital_bulk.workers.sweeper import StalledWorkSweeper, WorkItem

logger = logging.getLogger(__name__)


def sweep_interval(settings: Settings) -> float:
    """Return the seconds between sweeps: a third of the lease, between 0.5 and 20 s.

    A dead worker's chunk is then sent again at most a lease and a third after its last
    heartbeat.
    """
    return min(max(settings.lease_seconds / 3, 0.5), 20.0)


def requeue_after(settings: Settings) -> float:
    """Return how long in seconds a sent, unstarted item counts as queued: an hour, or ten leases.

    Past that, a sweeper sends it again, in case its message was lost while its mark was
    kept (a worker killed between receiving a task and starting it). Chunks still queued
    then get one duplicate each per period, which the atomic claim makes harmless.
    """
    return max(10 * settings.lease_seconds, 3600.0)


class TaskDispatcher:
    """Send chunk and final-step tasks, with a Redis mark per item that is queued.

    Args:
        app: the Celery app whose broker receives the tasks.
        redis_client: the Redis that stores the marks.
        requeue_after: seconds a mark lives.
    """

    def __init__(self, app: Celery, redis_client: redis.Redis, *, requeue_after: float) -> None:
        self._app = app
        self._redis = redis_client
        self._mark_ttl = max(int(requeue_after), 1)

    @classmethod
    def from_settings(cls, app: Celery, settings: Settings) -> TaskDispatcher:
        client = redis.Redis.from_url(limits_redis_url(settings))
        return cls(app, client, requeue_after=requeue_after(settings))

    def send(self, items: Iterable[WorkItem]) -> None:
        """Send every item, whether or not it is marked as queued (a new job's chunks)."""
        for item in items:
            self._redis.set(_mark_key(item), 1, ex=self._mark_ttl)
            self._send_or_unmark(item)

    def send_unless_queued(self, item: WorkItem) -> bool:
        """Send the item unless a mark shows it is queued; return whether it was sent."""
        if not self._redis.set(_mark_key(item), 1, ex=self._mark_ttl, nx=True):
            return False
        self._send_or_unmark(item)
        return True

    def mark_started(self, item: WorkItem) -> None:
        """Delete the item's mark: its task runs, and the sweeper may send it again if it dies."""
        self._redis.delete(_mark_key(item))

    def close(self) -> None:
        self._redis.close()

    def _send_or_unmark(self, item: WorkItem) -> None:
        job_id, chunk = item
        try:
            if chunk is None:
                self._app.send_task(FINALIZE_JOB, args=[job_id])
            else:
                self._app.send_task(PROCESS_CHUNK, args=[job_id, chunk])
        except BaseException:
            # Without the mark, the next sweep sends the item again.
            with contextlib.suppress(redis.RedisError):
                self._redis.delete(_mark_key(item))
            raise


def _mark_key(item: WorkItem) -> str:
    job_id, chunk = item
    return f"{KEY_PREFIX}:queued:{job_id}:{'final' if chunk is None else chunk}"


class CeleryBackend:
    """Send jobs to Celery workers, and sweep stalled work from the API process too.

    The context's shared limits are closed by `stop`, because this backend is the one
    that needs them in the API process.

    Args:
        context: the API's pipeline context (its store, settings and shared limits).
    """

    def __init__(self, context: PipelineContext) -> None:
        self.context = context
        self._app: Celery | None = None
        self._dispatcher: TaskDispatcher | None = None
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        settings = self.context.settings
        self._app = create_celery_app(settings)
        self._dispatcher = TaskDispatcher.from_settings(self._app, settings)
        sweeper = StalledWorkSweeper(
            self.context.repository, settings, enqueue=self._send_unless_queued,
            interval=sweep_interval(settings), pending_for=settings.lease_seconds,
        )
        self._sweeper = asyncio.create_task(sweeper.run())
        logger.info(
            "Sending jobs to Celery workers through %s", maybe_sanitize_url(settings.broker_url)
        )

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        if self._dispatcher is not None:
            self._dispatcher.close()
        if self._app is not None:
            self._app.close()
        await close_shared_limits(self.context.slots, self.context.client.pacer)

    async def enqueue_job(self, job_id: str) -> None:
        assert self._dispatcher is not None, "CeleryBackend.start() was not called"
        chunks = await asyncio.to_thread(self.context.repository.open_chunks, job_id)
        items: list[WorkItem] = [(job_id, chunk) for chunk in chunks] or [(job_id, None)]
        try:
            await asyncio.to_thread(self._dispatcher.send, items)
        except (BrokerError, redis.RedisError) as error:
            # The job is stored, so the sweeper sends its chunks once the broker is back.
            settings = self.context.settings
            logger.error(
                "Sending the tasks of job %s failed: %s; the sweeper retries within %.0f s",
                job_id, error, settings.lease_seconds + sweep_interval(settings),
                extra={"job_id": job_id, "action": "enqueue_failed"},
            )

    async def _send_unless_queued(self, item: WorkItem) -> bool:
        assert self._dispatcher is not None
        return await asyncio.to_thread(self._dispatcher.send_unless_queued, item)
